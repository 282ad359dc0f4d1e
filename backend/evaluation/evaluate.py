"""Evaluating a trained model on the test split: metrics, confusion, ROC, regression errors.

`evaluate(model, dataset)` runs the compiled metrics (`model.evaluate`) and one `predict`, then
derives everything else with NumPy and scikit-learn: per head, a confusion matrix, per-class
precision/recall/F1 and (binary tasks) a ROC curve, or predicted-vs-true pairs, residuals, MAE,
RMSE and R². `Predictions` is the per-sample table the predictions browser shows.

Keras and scikit-learn are imported inside the functions, so the GUI can import this module
before TensorFlow has loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backend.data import Dataset
from backend.keras_bridge.model_inputs import as_declared

CLASSIFICATION = "classification"
REGRESSION = "regression"
BATCH_SIZE = 256


class EvaluationError(ValueError):
    """A model and data that cannot be evaluated together, with what to do about it."""


@dataclass(frozen=True)
class Predictions:
    """One row per test sample: what the model said, what was true, how sure it was.

    Classification: `predicted`/`true` are class indices (n,), `confidence` the probability of
    the predicted class. Regression: `predicted`/`true` are (n, outputs) values, `abs_error`
    the mean absolute error of each sample, `confidence` is None.
    """

    task: str
    predicted: np.ndarray
    true: np.ndarray
    confidence: np.ndarray | None = None
    abs_error: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.predicted)

    @property
    def wrong(self) -> np.ndarray:
        """Misclassified samples (classification); no sample is simply 'wrong' in regression."""
        if self.task != CLASSIFICATION:
            return np.zeros(len(self), dtype=bool)
        return np.asarray(self.predicted != self.true)

    def by_confidence(self, descending: bool = True) -> np.ndarray:
        """Sample indices ordered by confidence (classification) or by error, smallest first."""
        if self.confidence is not None:
            key = -self.confidence if descending else self.confidence
        else:
            assert self.abs_error is not None
            key = self.abs_error if descending else -self.abs_error
        return np.argsort(key, kind="stable")

    def most_confidently_wrong(self) -> np.ndarray:
        """The misclassified samples, surest first; in regression, all samples, worst first."""
        if self.confidence is None:
            assert self.abs_error is not None
            return np.argsort(-self.abs_error, kind="stable")
        wrong = np.flatnonzero(self.wrong)
        return wrong[np.argsort(-self.confidence[wrong], kind="stable")]

    def in_cell(self, true: int, predicted: int) -> np.ndarray:
        """The samples of one confusion-matrix cell: true class `true`, predicted `predicted`."""
        if self.task != CLASSIFICATION:
            raise EvaluationError("confusion-matrix cells exist only for classification")
        return np.flatnonzero((self.true == true) & (self.predicted == predicted))


@dataclass(frozen=True)
class RocCurve:
    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray
    auc: float


@dataclass(frozen=True)
class ClassificationResult:
    class_names: list[str]
    probabilities: np.ndarray  # (n, classes)
    confusion: np.ndarray  # [true, predicted] counts
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    accuracy: float
    roc: RocCurve | None  # binary tasks with both classes in the test split


@dataclass(frozen=True)
class RegressionResult:
    residuals: np.ndarray  # true - predicted, (n, outputs)
    mae: float
    rmse: float
    r2: float


@dataclass(frozen=True)
class HeadReport:
    """The evaluation of one output of the model."""

    name: str
    task: str
    predictions: Predictions
    classification: ClassificationResult | None = None
    regression: RegressionResult | None = None


@dataclass
class EvaluationReport:
    metrics: dict[str, float]  # everything `model.evaluate` reports (compiled loss and metrics)
    heads: list[HeadReport]
    inputs: np.ndarray  # the test inputs, for thumbnails and insight
    notes: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.inputs)

    def head(self, name: str) -> HeadReport:
        for head in self.heads:
            if head.name == name:
                return head
        raise KeyError(f"no output named {name!r}; the outputs are {[h.name for h in self.heads]}")


# ----------------------------------------------------------------- entry point
def evaluate(model: Any, dataset: Dataset, batch_size: int = BATCH_SIZE) -> EvaluationReport:
    """Evaluate `model` on `dataset`'s test split. Raises `EvaluationError` with a reason."""
    x, y = test_arrays(dataset, batch_size)
    first = x[0] if isinstance(x, (list, tuple)) else x  # several inputs: one array each
    if len(first) == 0:
        raise EvaluationError(
            f"dataset {dataset.name!r} has no test samples: set a test fraction above 0"
        )
    check_input(model, x)
    names = list(model.output_names)
    targets = head_targets(y, names)
    notes: list[str] = []
    metrics = _compiled_metrics(model, x, targets, batch_size, notes)
    try:
        raw = model.predict(as_declared(model, x), batch_size=batch_size, verbose=0)
    except Exception as exc:
        raise EvaluationError(f"the model could not predict the test split: {_first(exc)}") from exc
    outputs = _as_list(raw, names)
    heads = [
        _head(name, out, target, dataset, len(names))
        for name, out, target in zip(names, outputs, targets, strict=True)
    ]
    return EvaluationReport(metrics, heads, first, notes)


def test_arrays(dataset: Dataset, batch_size: int = BATCH_SIZE) -> tuple[np.ndarray, Any]:
    """The test split as arrays; a streamed dataset's test pipeline is read once."""
    if dataset.stream is None:
        return dataset.x_test, dataset.y_test
    if not dataset.size("test"):
        return dataset.x_test, dataset.y_test
    xs, ys = [], []
    for batch_x, batch_y in dataset.data("test", batch_size):
        xs.append(np.asarray(batch_x))
        ys.append(np.asarray(batch_y))
    return np.concatenate(xs), np.concatenate(ys)


def check_input(model: Any, x: Any) -> None:
    """Refuse data whose sample shapes the model's Inputs cannot take, saying both shapes.
    `x`: one array for a single-input model, a list of arrays (in input order) for several."""
    arrays = list(x) if isinstance(x, (list, tuple)) else [x]
    if len(arrays) != len(model.inputs):
        raise EvaluationError(
            f"the model has {len(model.inputs)} inputs but the test data has {len(arrays)}"
        )
    for tensor, array in zip(model.inputs, arrays, strict=True):
        expected = tuple(tensor.shape[1:])
        got = tuple(np.shape(array)[1:])
        fits = len(expected) == len(got) and all(
            e is None or e == g for e, g in zip(expected, got, strict=True)
        )
        if not fits:
            shown = tuple("?" if e is None else e for e in expected)
            which = "" if len(arrays) == 1 else f" '{str(tensor.name).split(':')[0]}'"
            raise EvaluationError(
                f"the model's Input{which} takes samples of shape {shown} but the test data "
                f"has {got}: train the model on this data first"
            )


def head_targets(y: Any, names: Sequence[str]) -> list[np.ndarray]:
    """One target array per output: a dict by output name, a list in order, or one shared array."""
    if isinstance(y, dict):
        missing = [n for n in names if n not in y]
        if missing:
            raise EvaluationError(f"the test targets have no values for output(s) {missing}")
        return [np.asarray(y[n]) for n in names]
    if isinstance(y, list | tuple):
        if len(y) != len(names):
            raise EvaluationError(f"the model has {len(names)} outputs but {len(y)} target arrays")
        return [np.asarray(t) for t in y]
    return [np.asarray(y)] * len(names)


def _compiled_metrics(
    model: Any, x: np.ndarray, targets: list[np.ndarray], batch_size: int, notes: list[str]
) -> dict[str, float]:
    if not getattr(model, "compiled", False):
        notes.append("the model is not compiled: only predictions were evaluated")
        return {}
    y = targets[0] if len(targets) == 1 else list(targets)
    try:
        logs = model.evaluate(
            as_declared(model, x), y, batch_size=batch_size, return_dict=True, verbose=0
        )
    except Exception as exc:
        raise EvaluationError(
            f"Keras could not evaluate the model on the test split: {_first(exc)}"
        ) from exc
    return {k: float(v) for k, v in logs.items() if np.ndim(v) == 0}


def _as_list(raw: Any, names: Sequence[str]) -> list[np.ndarray]:
    if isinstance(raw, dict):
        return [np.asarray(raw[n]) for n in names]
    if isinstance(raw, list | tuple):
        return [np.asarray(r) for r in raw]
    return [np.asarray(raw)]


def _first(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


# ----------------------------------------------------------------- one head
def head_task(dataset: Dataset, target: np.ndarray, heads: int) -> str:
    """A head is classification on a classification dataset when its targets are labels."""
    if dataset.task != CLASSIFICATION:
        return REGRESSION
    if heads == 1 or np.issubdtype(target.dtype, np.integer) or target.dtype == bool:
        return CLASSIFICATION
    return CLASSIFICATION if _is_one_hot(target) else REGRESSION


def _head(
    name: str, output: np.ndarray, target: np.ndarray, dataset: Dataset, heads: int
) -> HeadReport:
    task = head_task(dataset, target, heads)
    if task == CLASSIFICATION:
        return classification_head(name, output, target, dataset.class_names)
    return regression_head(name, output, target)


def _is_one_hot(target: np.ndarray) -> bool:
    if target.ndim != 2 or target.shape[1] < 2:
        return False
    return bool(np.all((target == 0) | (target == 1)) and np.all(target.sum(axis=1) == 1))


def to_probabilities(output: np.ndarray) -> np.ndarray:
    """Class probabilities (n, classes) from a sigmoid unit, a softmax, or logits of either."""
    out = np.asarray(output, dtype="float64").reshape(len(output), -1)
    if out.shape[1] == 1:
        p = out[:, 0]
        if np.any((p < 0) | (p > 1)):  # logits
            p = 1.0 / (1.0 + np.exp(-p))
        return np.stack([1.0 - p, p], axis=1)
    sums = out.sum(axis=1)
    if np.any(out < 0) or not np.allclose(sums, 1.0, atol=1e-3):  # logits
        shifted = np.exp(out - out.max(axis=1, keepdims=True))
        return np.asarray(shifted / shifted.sum(axis=1, keepdims=True))
    return out


def labels_of(target: np.ndarray) -> np.ndarray:
    """Class indices from integer labels (n,) or (n, 1), or from one-hot rows."""
    target = np.asarray(target)
    if target.ndim == 2 and target.shape[1] > 1:
        return target.argmax(axis=1).astype("int64")
    return target.reshape(len(target)).astype("int64")


def classification_head(
    name: str, output: np.ndarray, target: np.ndarray, class_names: Sequence[str] = ()
) -> HeadReport:
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    probabilities = to_probabilities(output)
    true = labels_of(target)
    predicted = probabilities.argmax(axis=1)
    classes = max(probabilities.shape[1], len(class_names), int(true.max(initial=0)) + 1)
    labels = list(range(classes))
    names = [str(n) for n in class_names][:classes]
    names += [str(i) for i in range(len(names), classes)]
    confusion = confusion_matrix(true, predicted, labels=labels)
    precision, recall, f1, support = precision_recall_fscore_support(
        true, predicted, labels=labels, zero_division=0
    )
    result = ClassificationResult(
        class_names=names,
        probabilities=probabilities,
        confusion=confusion,
        precision=np.asarray(precision, dtype="float64"),
        recall=np.asarray(recall, dtype="float64"),
        f1=np.asarray(f1, dtype="float64"),
        support=np.asarray(support, dtype="int64"),
        accuracy=float(np.mean(predicted == true)),
        roc=roc_curve(true, probabilities) if classes == 2 else None,
    )
    confidence = probabilities[np.arange(len(predicted)), predicted]
    predictions = Predictions(CLASSIFICATION, predicted, true, confidence=confidence)
    return HeadReport(name, CLASSIFICATION, predictions, classification=result)


def roc_curve(true: np.ndarray, probabilities: np.ndarray) -> RocCurve | None:
    """The ROC curve of the positive class (index 1); None unless both classes occur."""
    from sklearn import metrics

    if len(np.unique(true)) != 2 or probabilities.shape[1] != 2:
        return None
    fpr, tpr, thresholds = metrics.roc_curve(true, probabilities[:, 1])
    return RocCurve(fpr, tpr, thresholds, float(metrics.auc(fpr, tpr)))


def regression_head(name: str, output: np.ndarray, target: np.ndarray) -> HeadReport:
    predicted = np.asarray(output, dtype="float64").reshape(len(output), -1)
    true = np.asarray(target, dtype="float64").reshape(len(target), -1)
    if true.shape != predicted.shape:
        raise EvaluationError(
            f"output {name!r} predicts {predicted.shape[1]} value(s) per sample "
            f"but the targets have {true.shape[1]}"
        )
    residuals = true - predicted
    result = RegressionResult(
        residuals=residuals,
        mae=float(np.mean(np.abs(residuals))),
        rmse=float(np.sqrt(np.mean(residuals**2))),
        r2=r2_score(true, predicted),
    )
    predictions = Predictions(
        REGRESSION, predicted, true, abs_error=np.mean(np.abs(residuals), axis=1)
    )
    return HeadReport(name, REGRESSION, predictions, regression=result)


def r2_score(true: np.ndarray, predicted: np.ndarray) -> float:
    """R², averaged over the outputs whose targets vary (an autoencoder's border pixels are
    always 0: R² says nothing there); NaN with fewer than two samples or no varying target."""
    if len(true) < 2:
        return float("nan")
    total = np.sum((true - true.mean(axis=0)) ** 2, axis=0)
    varying = total > 0
    if not np.any(varying):
        return float("nan")
    residual = np.sum((true - predicted) ** 2, axis=0)
    return float(np.mean(1.0 - residual[varying] / total[varying]))

"""Evaluation on the test split: real trained models, numbers checked against first principles."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from backend.data import Dataset
from backend.evaluation.evaluate import (
    CLASSIFICATION,
    REGRESSION,
    EvaluationError,
    EvaluationReport,
    evaluate,
    labels_of,
    r2_score,
    to_probabilities,
)
from tests import evaluation_models


@pytest.fixture(scope="module")
def digits_report() -> tuple[EvaluationReport, Any, Dataset]:
    model, dataset = evaluation_models.digits()
    return evaluate(model, dataset), model, dataset


@pytest.fixture(scope="module")
def moons_report() -> EvaluationReport:
    return evaluate(*evaluation_models.moons())


def rank_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """AUC as the probability a positive outscores a negative (ties count half)."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def test_confusion_matrix_and_per_class_scores_follow_from_the_predictions(
    digits_report: tuple[EvaluationReport, Any, Dataset],
) -> None:
    report, model, dataset = digits_report
    (head,) = report.heads
    result = head.classification
    assert head.task == CLASSIFICATION and result is not None
    confusion = result.confusion
    assert confusion.shape == (10, 10)
    assert confusion.sum() == len(dataset.x_test) == report.size
    np.testing.assert_array_equal(confusion.sum(axis=1), np.bincount(dataset.y_test, minlength=10))
    np.testing.assert_array_equal(result.support, confusion.sum(axis=1))
    diagonal = np.diag(confusion)
    np.testing.assert_allclose(result.recall, diagonal / confusion.sum(axis=1))
    columns = confusion.sum(axis=0)
    expected_precision = np.divide(diagonal, columns, out=np.zeros(10), where=columns > 0)
    np.testing.assert_allclose(result.precision, expected_precision)
    p, r = result.precision, result.recall
    expected_f1 = np.divide(2 * p * r, p + r, out=np.zeros(10), where=(p + r) > 0)
    np.testing.assert_allclose(result.f1, expected_f1)
    # the compiled metric (Keras) and our count agree on the same predictions
    assert result.accuracy == pytest.approx(report.metrics["accuracy"], abs=1e-6)
    assert result.accuracy == pytest.approx(diagonal.sum() / confusion.sum())
    assert 0.3 < result.accuracy < 1.0, "trained above chance (10%)"
    assert {"loss", "accuracy"} <= set(report.metrics)
    assert result.roc is None, "ROC is for binary tasks"
    direct = model.predict(dataset.x_test, verbose=0)
    np.testing.assert_array_equal(head.predictions.predicted, direct.argmax(axis=1))
    np.testing.assert_allclose(head.predictions.confidence, direct.max(axis=1), rtol=1e-6)


def test_predictions_table_orders_and_filters(
    digits_report: tuple[EvaluationReport, Any, Dataset],
) -> None:
    report, _, dataset = digits_report
    head = report.heads[0]
    p = head.predictions
    assert p.confidence is not None
    np.testing.assert_array_equal(p.true, dataset.y_test)
    ordered = p.by_confidence()
    assert sorted(ordered) == list(range(len(p)))
    assert np.all(np.diff(p.confidence[ordered]) <= 0)
    assert np.all(np.diff(p.confidence[p.by_confidence(descending=False)]) >= 0)
    wrong = p.most_confidently_wrong()
    confusion = head.classification.confusion  # type: ignore[union-attr]
    assert len(wrong) == confusion.sum() - np.trace(confusion) > 0
    assert np.all(p.predicted[wrong] != p.true[wrong])
    assert np.all(np.diff(p.confidence[wrong]) <= 0)
    for (i, j), count in np.ndenumerate(confusion):
        cell = p.in_cell(i, j)
        assert len(cell) == count
        assert np.all(p.true[cell] == i) and np.all(p.predicted[cell] == j)


def test_binary_sigmoid_model_gets_a_roc_curve(moons_report: EvaluationReport) -> None:
    head = moons_report.heads[0]
    result = head.classification
    assert result is not None and result.roc is not None
    roc = result.roc
    assert 0.0 <= roc.auc <= 1.0
    assert roc.auc > 0.85, "a trained MLP separates the moons"
    scores = result.probabilities[:, 1]
    assert roc.auc == pytest.approx(rank_auc(head.predictions.true, scores), abs=1e-9)
    assert roc.fpr[0] == 0 and roc.tpr[0] == 0 and roc.fpr[-1] == 1 and roc.tpr[-1] == 1
    assert np.all(np.diff(roc.fpr) >= 0) and np.all(np.diff(roc.tpr) >= 0)
    np.testing.assert_allclose(result.probabilities.sum(axis=1), 1.0)
    assert result.class_names == ["0", "1"]


def test_two_class_softmax_and_one_hot_targets_get_a_roc_curve(keras: Any) -> None:
    model, dataset = evaluation_models.moons()
    logits = model.predict(dataset.x_test, verbose=0)[:, 0]
    # a two-unit softmax with the same decision: [-z/2, z/2] -> softmax = [1-p, p]
    head_in = keras.Input((2,))
    z = model(head_in)
    zz = keras.layers.Lambda(lambda p: keras.ops.log(p) - keras.ops.log(1 - p))(z)
    two = keras.layers.Concatenate()([-zz / 2, zz / 2])
    softmax = keras.Model(head_in, keras.layers.Softmax()(two))
    one_hot = np.eye(2, dtype="float32")[dataset.y_test]
    data = Dataset(
        "moons",
        "classification",
        dataset.x_train,
        dataset.y_train,
        dataset.x_val,
        dataset.y_val,
        dataset.x_test,
        one_hot,
        ["a", "b"],
    )
    report = evaluate(softmax, data)
    result = report.heads[0].classification
    assert result is not None and result.roc is not None
    assert report.notes == ["the model is not compiled: only predictions were evaluated"]
    np.testing.assert_allclose(result.probabilities[:, 1], logits, atol=1e-5)
    assert result.roc.auc == pytest.approx(rank_auc(dataset.y_test, logits), abs=1e-6)
    assert result.class_names == ["a", "b"]


def test_regression_reports_errors_that_match_keras_and_the_definitions() -> None:
    model, dataset = evaluation_models.diabetes()
    report = evaluate(model, dataset)
    (head,) = report.heads
    result = head.regression
    assert head.task == REGRESSION and result is not None and head.classification is None
    predicted = model.predict(dataset.x_test, verbose=0)
    true = dataset.y_test.reshape(-1, 1)
    np.testing.assert_allclose(head.predictions.predicted, predicted, rtol=1e-6)
    np.testing.assert_allclose(result.residuals, true - predicted, rtol=1e-5, atol=1e-6)
    assert result.mae == pytest.approx(float(np.mean(np.abs(true - predicted))), rel=1e-5)
    assert result.mae == pytest.approx(report.metrics["mae"], rel=1e-4)
    assert result.rmse**2 == pytest.approx(report.metrics["loss"], rel=1e-4)
    ss_res = np.sum((true - predicted) ** 2)
    ss_tot = np.sum((true - true.mean()) ** 2)
    assert result.r2 == pytest.approx(1 - ss_res / ss_tot, rel=1e-5)
    assert result.r2 > 0.2, "20 epochs learn something"
    worst = head.predictions.most_confidently_wrong()
    assert head.predictions.abs_error is not None
    assert np.all(np.diff(head.predictions.abs_error[worst]) <= 0)
    with pytest.raises(EvaluationError, match="only for classification"):
        head.predictions.in_cell(0, 0)


def test_each_head_of_a_multi_output_model_is_evaluated(keras: Any, digits: Dataset) -> None:
    keras.utils.set_random_seed(1)
    x = digits.x_train
    inputs = keras.Input((8, 8, 1))
    hidden = keras.layers.Dense(16, activation="relu")(keras.layers.Flatten()(inputs))
    kind = keras.layers.Dense(10, activation="softmax", name="kind")(hidden)
    ink = keras.layers.Dense(1, name="ink")(hidden)
    model = keras.Model(inputs, [kind, ink])
    model.compile(
        "adam", loss=["sparse_categorical_crossentropy", "mse"], metrics=[["accuracy"], ["mae"]]
    )
    ink_of = lambda images: images.reshape(len(images), -1).mean(axis=1, keepdims=True)  # noqa: E731
    model.fit(x, [digits.y_train, ink_of(x)], epochs=1, verbose=0)
    targets = {"kind": digits.y_test, "ink": ink_of(digits.x_test)}
    data = Dataset(
        "digits+ink",
        "classification",
        x,
        digits.y_train,
        digits.x_val,
        digits.y_val,
        digits.x_test,
        targets,
        digits.class_names,
    )  # type: ignore[arg-type]
    report = evaluate(model, data)
    assert [h.name for h in report.heads] == ["kind", "ink"]
    kind_head, ink_head = report.heads
    assert kind_head.task == CLASSIFICATION and ink_head.task == REGRESSION
    assert kind_head.classification is not None and ink_head.regression is not None
    assert kind_head.classification.confusion.sum() == len(digits.x_test)
    assert kind_head.classification.accuracy == pytest.approx(
        report.metrics["kind_accuracy"], abs=1e-6
    )
    assert ink_head.regression.mae == pytest.approx(report.metrics["ink_mae"], rel=1e-4)
    assert report.head("ink") is ink_head
    with pytest.raises(KeyError, match="kind"):
        report.head("nope")


def test_data_the_model_cannot_take_is_refused_with_both_shapes(moons: Dataset) -> None:
    model, _ = evaluation_models.digits()
    with pytest.raises(EvaluationError, match=r"\(8, 8, 1\) but the test data has \(2,\)"):
        evaluate(model, moons)
    empty = Dataset(
        "empty",
        "classification",
        moons.x_train,
        moons.y_train,
        moons.x_val,
        moons.y_val,
        moons.x_test[:0],
        moons.y_test[:0],
        ["0", "1"],
    )
    with pytest.raises(EvaluationError, match="no test samples"):
        evaluate(evaluation_models.moons()[0], empty)


def test_probabilities_from_logits_and_labels_from_one_hot() -> None:
    logits = np.array([[2.0, -1.0, 0.5], [-3.0, 4.0, 0.0]])
    probs = to_probabilities(logits)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_array_equal(probs.argmax(axis=1), [0, 1])
    sigmoid_logits = to_probabilities(np.array([[-2.0], [3.0]]))
    np.testing.assert_allclose(sigmoid_logits[:, 1], 1 / (1 + np.exp([2.0, -3.0])))
    already = np.array([[0.2, 0.8], [0.6, 0.4]])
    np.testing.assert_array_equal(to_probabilities(already), already)
    np.testing.assert_array_equal(labels_of(np.eye(3)[[2, 0, 1]]), [2, 0, 1])
    np.testing.assert_array_equal(labels_of(np.array([[1], [0]])), [1, 0])


def test_r2_reads_only_the_targets_that_vary() -> None:
    """An autoencoder's border pixels are 0 in every image: R² is the mean over the others,
    not NaN for the whole model."""
    true = np.array([[0.0, 1.0], [0.0, 2.0], [0.0, 3.0]])
    border_missed = np.array([[0.1, 0.0], [0.0, 0.0], [0.0, 0.0]])
    assert r2_score(true, true + border_missed) == 1.0
    half_missed = np.array([[0.0, 0.5], [0.0, -0.5], [0.0, 0.0]])
    assert r2_score(true, true + half_missed) == pytest.approx(0.75)
    assert np.isnan(r2_score(np.zeros((3, 2)), np.ones((3, 2))))

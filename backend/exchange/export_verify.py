"""Reloading an exported model with its own runtime and running it on check samples.

Each runtime takes the written path, the in-app model (for its input names and output order)
and the inputs (one array per model input) and returns the outputs as NumPy arrays, in the
order of `model.outputs`. Nothing here executes code from the file: `.keras` loads with
`safe_mode=True`; the other formats are graphs run by their interpreters.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from backend.keras_bridge.model_inputs import as_declared
from backend.keras_bridge.weights import leaf_layers
from backend.keras_env import import_keras, import_tensorflow, quiet_native_stderr

CHECK_SAMPLES = 8
"""How many samples an export is checked on."""

Runtime = Callable[[Path, Any, list[np.ndarray]], list[np.ndarray]]


def model_inputs(model: Any, samples: Any, source: str) -> tuple[list[np.ndarray], str]:
    """One array per model input, `CHECK_SAMPLES` long: the given samples, else seeded random
    values of the inputs' shapes and dtypes. Also says where they came from."""
    specs = [(tuple(t.shape), str(t.dtype)) for t in model.inputs]
    given = _as_list(samples, len(specs))
    if given is not None and any(
        d == "string" and np.asarray(a).dtype.kind not in "OUS"
        for a, (_, d) in zip(given, specs, strict=True)
    ):
        given = None  # numbers for a text input: the project's data is not the model's
    if given is not None:
        arrays = [
            np.asarray(a)[:CHECK_SAMPLES].astype(_numpy_dtype(d))
            for a, (_, d) in zip(given, specs, strict=True)
        ]
        if all(len(a) for a in arrays):
            return arrays, source or "samples"
    rng = np.random.default_rng(0)
    arrays = []
    for shape, dtype in specs:
        full = (CHECK_SAMPLES, *(d if d is not None else 4 for d in shape[1:]))
        if dtype == "string":
            arrays.append(_texts(rng, full, vocabulary_words(model)))
        elif np.dtype(dtype).kind in "iub":
            arrays.append(rng.integers(0, 2, size=full).astype(dtype))
        else:
            arrays.append(rng.standard_normal(full).astype(dtype))
    return arrays, "random inputs"


def _numpy_dtype(dtype: str) -> Any:
    """Keras' "string" is a NumPy object array of Python strings (what TensorFlow takes)."""
    return object if dtype == "string" else dtype


def vocabulary_words(model: Any) -> list[str]:
    """The string vocabularies of the model's lookup layers (StringLookup, TextVectorization),
    so that check samples hit known words as well as unknown ones."""
    words: list[str] = []
    for _path, layer in leaf_layers(model):
        vocabulary = getattr(layer, "get_vocabulary", None)
        if callable(vocabulary):  # its unknown-word token ("[UNK]") is not a word
            unknown = getattr(layer, "oov_token", "[UNK]")  # TextVectorization: "[UNK]"
            words += [w for w in vocabulary() if isinstance(w, str) and w.strip() and w != unknown]
    return sorted(set(words))[:50]


def _texts(rng: np.random.Generator, shape: tuple[int, ...], words: list[str]) -> np.ndarray:
    """Random one- or two-word strings from `words` and a word no vocabulary has."""
    pool = [*words, "unknown"]
    texts = [
        " ".join(rng.choice(pool, size=int(rng.integers(1, 3))).tolist())
        for _ in range(int(np.prod(shape)))
    ]
    return np.array(texts, dtype=object).reshape(shape)


def project_samples(project: Any) -> tuple[Any, str]:
    """A few samples of a project's data for checking an export (test split first), or
    (None, "") when its data cannot be loaded here: the check then uses random inputs."""
    from backend.data import DatasetError

    try:
        dataset = load_project_dataset(project)
    except (DatasetError, OSError, ValueError):
        return None, ""
    for split in ("test", "val", "train"):
        if dataset.stream is None and dataset.size(split):
            x = dataset.data(split, CHECK_SAMPLES)[0]
            return x[:CHECK_SAMPLES], f"{split} samples of {dataset.name}"
    return None, ""


def load_project_dataset(project: Any) -> Any:
    return project.load_data()


def _as_list(samples: Any, count: int) -> list[Any] | None:
    if samples is None:
        return None
    if isinstance(samples, (list, tuple)):
        return list(samples) if len(samples) == count else None
    if isinstance(samples, dict):
        return None
    return [samples] if count == 1 else None


def reference_outputs(model: Any, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """The in-app model's outputs in inference mode (dropout off, batch norm frozen)."""
    return _listed(model(as_declared(model, inputs), training=False), len(model.outputs))


def _listed(outputs: Any, count: int) -> list[np.ndarray]:
    if isinstance(outputs, dict):
        outputs = list(outputs.values())
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    arrays = [np.asarray(o) for o in outputs]
    if len(arrays) != count:
        raise ValueError(f"expected {count} outputs, got {len(arrays)}")
    return arrays


def input_names(model: Any) -> list[str]:
    """The names the exported signatures use for the inputs (the Input layers' names)."""
    return [str(t.name).split(":")[0] for t in model.inputs]


def _by_output_index(named: dict[str, Any]) -> list[np.ndarray]:
    """`output_0`, `output_1`, ... (the serving signature's names) in numeric order."""

    def index(key: str) -> int:
        match = re.search(r"(\d+)$", key)
        return int(match.group(1)) if match else 0

    return [np.asarray(named[k]) for k in sorted(named, key=index)]


# ----------------------------------------------------------------- runtimes
def run_keras(path: Path, model: Any, inputs: list[np.ndarray]) -> list[np.ndarray]:
    keras = import_keras()
    loaded = keras.models.load_model(path, safe_mode=True, compile=False)
    return _listed(loaded(as_declared(loaded, inputs), training=False), len(model.outputs))


def run_savedmodel(path: Path, model: Any, inputs: list[np.ndarray]) -> list[np.ndarray]:
    tf = import_tensorflow()
    signature = tf.saved_model.load(str(path)).signatures["serving_default"]
    names = list(signature.structured_input_signature[1])
    feeds = _feeds(names, input_names(model), inputs)
    result = signature(**{k: tf.constant(v) for k, v in feeds.items()})
    return _by_output_index({k: v.numpy() for k, v in result.items()})


def run_tflite(path: Path, model: Any, inputs: list[np.ndarray]) -> list[np.ndarray]:
    with quiet_native_stderr():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
        return _run_tflite(path, model, inputs)


def _run_tflite(path: Path, model: Any, inputs: list[np.ndarray]) -> list[np.ndarray]:
    interpreter = _tflite_interpreter(path)
    runner = interpreter.get_signature_runner("serving_default")
    names = list(interpreter.get_signature_list()["serving_default"]["inputs"])
    feeds = _feeds(names, input_names(model), inputs)
    batches = {int(d["shape_signature"][0]) for d in runner.get_input_details().values()}
    if batches != {1} or len(inputs[0]) == 1:
        return _by_output_index(runner(**feeds))
    # A model converted for one sample per call (see export_formats._write_tflite).
    rows = [
        _by_output_index(runner(**{k: v[i : i + 1] for k, v in feeds.items()}))
        for i in range(len(inputs[0]))
    ]
    return [np.concatenate(parts) for parts in zip(*rows, strict=True)]


def _tflite_interpreter(path: Path) -> Any:
    """LiteRT's interpreter when installed, else TensorFlow's (deprecated but still shipped)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        tf = import_tensorflow()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "tf.lite.Interpreter is deprecated"
            return tf.lite.Interpreter(model_path=str(path))
    return Interpreter(model_path=str(path))


def run_onnx(path: Path, model: Any, inputs: list[np.ndarray]) -> list[np.ndarray]:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    outputs = session.run(None, _feeds(names, input_names(model), inputs))
    return [np.asarray(o) for o in outputs]


def _feeds(names: list[str], expected: list[str], inputs: list[np.ndarray]) -> dict[str, Any]:
    """Map the runtime's input names to arrays: by the model's input names, else in order."""
    if sorted(names) == sorted(expected):
        return dict(zip(expected, inputs, strict=True))
    if len(names) == len(inputs):
        return dict(zip(names, inputs, strict=True))
    raise ValueError(f"the export has inputs {names}, the model has {expected}")


RUNTIMES: dict[str, tuple[str, Runtime]] = {
    "keras": ("Keras load_model (safe mode)", run_keras),
    "savedmodel": ("tf.saved_model.load, serving_default", run_savedmodel),
    "tflite": ("the TFLite interpreter", run_tflite),
    "onnx": ("ONNX Runtime (CPU)", run_onnx),
}
"""Format -> (the runtime's name for people, the function that runs an export)."""

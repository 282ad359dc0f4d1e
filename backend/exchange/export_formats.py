"""Exporting a model to the formats production uses, each verified right after it is written.

`export_model` writes a model as `.keras`, a TensorFlow SavedModel (a folder), TFLite (optionally
quantized) or ONNX. The file (or folder) is first written under a temporary name beside the
target, reloaded with its own runtime (`backend.exchange.export_verify`) and compared with the
in-app
model on a few samples; only then is it renamed into place. A failed write, conversion or check
leaves nothing behind, and an existing file at the target is kept until the new one is good.

A format whose converter is not installed stays listed: `missing_requirement` names the package
and `export_model` refuses with the one-line install command.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import os
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backend.exchange.export_targets import ExportError, check_replaceable
from backend.exchange.export_verify import RUNTIMES, model_inputs, reference_outputs
from backend.keras_bridge.model_inputs import as_declared
from backend.keras_bridge.weights import leaf_layers
from backend.keras_env import import_tensorflow
from backend.paths import new_file_mode

QUANTIZATIONS: dict[str, str] = {
    "none": "none (float32)",
    "dynamic": "dynamic range (int8 weights, about 4x smaller)",
    "float16": "float16 weights (about 2x smaller)",
}
"""TFLite quantization -> what it means for people."""

FLOAT_TOLERANCE = 1e-4
"""Allowed max absolute difference of an unquantized export, relative to the outputs' scale."""


@dataclass(frozen=True)
class ExportFormat:
    name: str
    label: str
    suffix: str
    directory: bool = False
    requires: tuple[str, ...] = ()
    """Python modules the converter and its verifying runtime need."""
    install: str = ""
    """The pip requirement that brings them."""
    quantizable: bool = False

    @property
    def file_filter(self) -> str:
        return f"{self.label} (*{self.suffix})" if self.suffix else self.label


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("keras", "Keras model", ".keras"),
        ExportFormat("savedmodel", "TensorFlow SavedModel (folder)", "", directory=True),
        ExportFormat("tflite", "TensorFlow Lite", ".tflite", quantizable=True),
        ExportFormat(
            "onnx",
            "ONNX",
            ".onnx",
            requires=("onnx", "onnxruntime", "tf2onnx"),
            install="pip install 'deepcanvas[export]'  (onnx, onnxruntime, tf2onnx)",
        ),
    )
}
SCRIPT = ExportFormat("python", "Python script", ".py")
"""`export --format python`: the script of `backend.exchange.codegen`, checked like the rest."""


@dataclass(frozen=True)
class ExportReport:
    """What was written and how closely its own runtime reproduces the in-app model."""

    format: str
    path: Path
    runtime: str
    max_abs_diff: float
    tolerance: float | None
    """None for quantized exports: a difference is expected there, so it is only reported."""
    samples: int
    sample_source: str
    quantize: str
    size_bytes: int
    seconds: float

    @property
    def matches(self) -> bool:
        return self.tolerance is None or self.max_abs_diff <= self.tolerance

    def summary(self) -> str:
        size = f"{self.size_bytes / 1024:,.1f} KiB"
        check = f"max abs diff {self.max_abs_diff:.3g} on {self.samples} {self.sample_source}"
        quant = "" if self.quantize == "none" else f", {self.quantize} quantized"
        return (
            f"wrote {self.path} ({FORMATS[self.format].label}{quant}, {size}); verified with "
            f"{self.runtime}: {check}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "path": str(self.path),
            "runtime": self.runtime,
            "max_abs_diff": self.max_abs_diff,
            "tolerance": self.tolerance,
            "matches": self.matches,
            "samples": self.samples,
            "sample_source": self.sample_source,
            "quantize": self.quantize,
            "size_bytes": self.size_bytes,
            "seconds": round(self.seconds, 3),
        }


def missing_requirement(fmt: str) -> str | None:
    """The install hint when `fmt`'s converter or runtime is not installed, else None."""
    spec = FORMATS[fmt]
    missing = [m for m in spec.requires if importlib.util.find_spec(m) is None]
    if not missing:
        return None
    return f"{spec.label} export needs {', '.join(missing)}: {spec.install}"


def check_target(
    fmt: str, path: str | Path, quantize: str = "none", keep: Iterable[str | Path | None] = ()
) -> Path:
    """The target path, or an `ExportError` for an unknown format, suffix or quantization, or
    a target the export must not replace (`backend.exchange.export_targets`): `keep` names
    files that must survive, such as the project the model comes from. `fmt` may be
    "python" (the script)."""
    if fmt not in FORMATS and fmt != SCRIPT.name:
        raise ExportError(f"unknown export format {fmt!r}; supported: {', '.join(FORMATS)}")
    spec = FORMATS.get(fmt, SCRIPT)
    path = Path(path)
    if spec.suffix and path.suffix != spec.suffix:
        article = "an" if spec.label[0] in "AEIO" else "a"  # an ONNX file
        raise ExportError(f"{path}: {article} {spec.label} file must end in {spec.suffix}")
    if quantize not in QUANTIZATIONS:
        raise ExportError(f"unknown quantization {quantize!r}; choose {', '.join(QUANTIZATIONS)}")
    if quantize != "none" and not spec.quantizable:
        raise ExportError(f"{path}: {spec.label} exports are not quantized; use --quantize none")
    check_replaceable(path, spec.directory, spec.label, keep)
    return path


def export_model(
    model: Any,
    path: str | Path,
    fmt: str,
    quantize: str = "none",
    samples: Any = None,
    sample_source: str = "",
) -> ExportReport:
    """Write `model` to `path` as `fmt`, verify it with its own runtime, then rename into place.

    `samples` are inputs for the check (an array, or one per model input); by default a few
    seeded random inputs of the model's shapes. Raises `ExportError` naming the file.
    """
    path = check_target(fmt, path, quantize)
    hint = missing_requirement(fmt)
    if hint:
        raise ExportError(f"{path}: {hint}")
    start = time.perf_counter()
    try:
        inputs, source = model_inputs(model, samples, sample_source)
        expected = reference_outputs(model, inputs)
    except (AttributeError, ValueError, TypeError) as exc:
        raise ExportError(
            f"{path}: the model cannot run on check samples: {_first_line(exc)}"
        ) from exc
    _check_finite(expected, path, f"the model itself, on {source}")
    spec = FORMATS[fmt]
    with _temporary_target(path, spec.directory) as tmp:
        try:
            with _quiet():
                WRITERS[fmt](model, tmp, quantize)
        except Exception as exc:
            raise ExportError(
                f"{path}: {spec.label} conversion failed: {_conversion_problem(exc, model)}"
            ) from exc
        runtime, load_and_run = RUNTIMES[fmt]
        try:
            with _quiet():
                actual = load_and_run(tmp, model, inputs)
        except Exception as exc:
            raise ExportError(
                f"{path}: the written {spec.label} does not load or run in {runtime}: "
                f"{_first_line(exc)}"
            ) from exc
        diff = verification_gap(expected, actual, path)
        tolerance = _tolerance(expected) if quantize == "none" else None
        if tolerance is not None and not diff <= tolerance:
            raise ExportError(
                f"{path}: verification failed: {runtime} differs from the model by {diff:.3g} "
                f"(allowed {tolerance:.3g})"
            )
        size = _size(tmp)
        _move_into_place(tmp, path)
    count = len(inputs[0])
    return ExportReport(
        fmt,
        path,
        runtime,
        diff,
        tolerance,
        count,
        source,
        quantize,
        size,
        time.perf_counter() - start,
    )


# ----------------------------------------------------------------- writers
def _write_keras(model: Any, tmp: Path, quantize: str) -> None:
    model.save(tmp)


def _write_savedmodel(model: Any, tmp: Path, quantize: str) -> None:
    model.export(str(tmp), format="tf_saved_model", verbose=False)


def _write_tflite(model: Any, tmp: Path, quantize: str) -> None:
    """TFLite's builtin operations; a recurrent layer whose loop TFLite can only build with a
    static shape ("TensorListReserve ... element_shape", a masked or bidirectional LSTM) is
    converted again for a batch of one sample per call, the usual shape on a device."""
    try:
        data = _tflite_bytes(model, quantize, batch=None)
    except Exception as exc:
        if "TensorList" not in str(exc):
            raise
        data = _tflite_bytes(model, quantize, batch=1)
    tmp.write_bytes(data)


def _tflite_bytes(model: Any, quantize: str, batch: int | None) -> bytes:
    tf = import_tensorflow()
    signature = None
    if batch is not None:
        specs = [
            tf.TensorSpec([batch, *t.shape[1:]], t.dtype, name=str(t.name).split(":")[0])
            for t in model.inputs
        ]
        signature = [as_declared(model, specs)]
    with tempfile.TemporaryDirectory(prefix="deepcanvas-savedmodel-") as folder:
        model.export(folder, format="tf_saved_model", verbose=False, input_signature=signature)
        converter = tf.lite.TFLiteConverter.from_saved_model(folder)
        if quantize in ("dynamic", "float16"):
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantize == "float16":
            converter.target_spec.supported_types = [tf.float16]
        return bytes(converter.convert())


def _write_onnx(model: Any, tmp: Path, quantize: str) -> None:
    """tf2onnx logs the operations it cannot convert and writes a graph ONNX Runtime cannot
    load: those logs become the error, naming the operations and their layers."""
    from backend.exchange import onnx_ops  # operations tf2onnx lacks (Erfc), captured constants

    errors = _LogRecords()
    logger = logging.getLogger("tf2onnx")
    logger.addHandler(errors)
    try:
        model.export(str(tmp), format="onnx", verbose=False)
        if onnx_ops.has_extra_inputs(tmp, model):  # a Normalization's mean became an input
            onnx_ops.convert_from_saved_model(model, tmp)
    finally:
        logger.removeHandler(errors)
    text = "\n".join(errors.messages)
    ops = sorted(set(re.findall(r"op \[[^\]]*: (\w+)\] is not supported", text)))
    ops += sorted(set(re.findall(r"Failed to convert node '[^']*/(\w+)'", text)) - set(ops))
    if ops:
        layers = layers_named_in(model, text)
        where = f" in {', '.join(layers)}" if layers else ""
        raise ValueError(
            f"tf2onnx has no ONNX operator for {', '.join(ops)}{where} (string, hashing and "
            "lookup-table operations mostly have none): use SavedModel or Keras"
        )


class _LogRecords(logging.Handler):
    """Keeps the messages of the error records a logger emits."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


WRITERS: dict[str, Callable[[Any, Path, str], None]] = {
    "keras": _write_keras,
    "savedmodel": _write_savedmodel,
    "tflite": _write_tflite,
    "onnx": _write_onnx,
}


# ----------------------------------------------------------------- files
@contextlib.contextmanager
def _temporary_target(path: Path, directory: bool) -> Iterator[Path]:
    """A fresh name beside `path` (same folder, so the final rename is atomic); removed on error."""
    name = path.name or "export"
    try:
        if directory:
            tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=path.parent))
        else:
            fd, raw = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
            os.close(fd)
            tmp = Path(raw)
    except OSError as exc:  # a missing or read-only folder
        raise ExportError(f"{path}: cannot be written ({exc.strerror or exc})") from exc
    try:
        os.chmod(tmp, new_file_mode(path, directory))  # mkstemp/mkdtemp made it private
        yield tmp
    except OSError as exc:
        _remove(tmp)
        raise ExportError(f"{path}: cannot be written ({exc.strerror or exc})") from exc
    except BaseException:
        _remove(tmp)
        raise


def _move_into_place(tmp: Path, path: Path) -> None:
    """Rename `tmp` over `path`. A folder cannot replace a non-empty one in one step, so an
    existing folder is first renamed aside and removed only once the new one is in place."""
    check_replaceable(path, tmp.is_dir(), "model")  # again: it may have changed meanwhile
    if not (tmp.is_dir() and path.exists()):
        os.replace(tmp, path)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
    os.replace(path, aside / path.name)
    try:
        os.replace(tmp, path)
    except OSError:
        os.replace(aside / path.name, path)
        raise
    finally:
        shutil.rmtree(aside, ignore_errors=True)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


# ----------------------------------------------------------------- checks
def verification_gap(
    expected: list[np.ndarray], actual: list[np.ndarray], path: Path | str = "the export"
) -> float:
    """The largest absolute difference between the model's outputs and the export's.

    Non-finite values are never a match: NaN or infinity from the model means there is
    nothing to compare against (its weights or inputs hold them), and from the export, where
    the model gives a number, a broken export; both are an ExportError naming the output."""
    if len(expected) != len(actual):
        raise ExportError(
            f"{path}: verification failed: {len(actual)} outputs, the model has {len(expected)}"
        )
    _check_finite(expected, path, "the model itself")
    worst = 0.0
    for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
        if e.shape != a.shape:
            raise ExportError(
                f"{path}: verification failed: output {i} has shape {a.shape}, "
                f"the model's is {e.shape}"
            )
        _check_finite([a], path, "the export", index=i)
        gap = np.abs(e.astype("float64") - a.astype("float64"))
        worst = max(worst, float(np.max(gap, initial=0.0)))
    return worst


def _check_finite(
    outputs: list[np.ndarray], path: Path | str, whose: str, index: int | None = None
) -> None:
    for i, output in enumerate(outputs):
        values = np.asarray(output)
        if values.dtype.kind not in "fc":
            continue
        bad = int(np.count_nonzero(~np.isfinite(values)))
        if bad:
            which = index if index is not None else i
            raise ExportError(
                f"{path}: verification failed: output {which} of {whose} holds NaN or "
                f"infinity in {bad:,} of {values.size:,} values, so nothing was written (NaN "
                "weights come from a diverged training: train again with a lower learning rate)"
            )


def _tolerance(expected: list[np.ndarray]) -> float:
    """FLOAT_TOLERANCE of the outputs' scale; a float16 model computes to about 1e-3."""
    finite = [np.abs(e[np.isfinite(e)]) for e in expected]
    scale = max(1.0, *(float(np.max(f, initial=0.0)) for f in finite))
    low_precision = any(e.dtype.itemsize < 4 for e in expected if e.dtype.kind == "f")
    return (1e-2 if low_precision else FLOAT_TOLERANCE) * scale


def _conversion_problem(exc: BaseException, model: Any) -> str:
    """The converter's reason in one line (TFLite's is pages of MLIR), naming the layers
    whose operations it could not convert when the message says where they are."""
    text = str(exc)
    if "not supported by the native TFLite runtime" in text:
        ops = text.split("TF Select ops:", 1)[-1].splitlines()[0].strip()
        layers = layers_named_in(model, text)
        if layers:
            return (
                f"these operations have no TFLite kernel: {ops} (in {', '.join(layers)}; "
                "string, hashing and lookup-table layers mostly have none): use SavedModel or Keras"
            )
        return (
            f"these operations have no TFLite kernel: {ops} (a float16 or unusual layer; "
            "export with the float32 policy or use SavedModel)"
        )
    return _first_line(exc)


def layers_named_in(model: Any, text: str) -> list[str]:
    """`Hashing 'ids'` for each layer of `model` whose TensorFlow scope (`.../ids_1/...`)
    appears in a converter's message."""
    found = []
    for _path, layer in leaf_layers(model):
        if re.search(rf"/{re.escape(layer.name)}(_\d+)?/", text):
            found.append(f"{type(layer).__name__} '{layer.name}'")
    return found


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Converters print progress and deprecation notes: keep the terminal for our own lines."""
    loggers = [logging.getLogger(name) for name in ("tf2onnx", "tensorflow", "absl")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)

"""Importing Keras on the TensorFlow backend, quietly and only when first needed.

TensorFlow's C++ side logs through absl before anything can configure it: on a machine
without a GPU every start printed "E0000 ... failed call to cuInit", which users read as an
error, and a few "I0000" lines. By default those lines are kept out of the terminal: the C++
log level is raised to errors only (TF_CPP_MIN_LOG_LEVEL=3) and what the native import writes
to stderr is read back and passed on without the known start-up noise. `--verbose`
(DEEPCANVAS_VERBOSE=1) leaves TensorFlow's logging as it is.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from types import ModuleType

VERBOSE_ENV = "DEEPCANVAS_VERBOSE"
_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|[IW]\d{4} [\d:. ]+\d+ \S+\.cc:\d+\]"  # absl INFO and WARNING lines
    r"|E\d{4} [\d:. ]+\d+ cuda_\w+\.cc:\d+\] failed call to cuInit"
    r"|INFO: Created TensorFlow Lite XNNPACK delegate for CPU\.)"  # each TFLite interpreter
)
_lock = threading.Lock()


def is_verbose() -> bool:
    return os.environ.get(VERBOSE_ENV, "") not in ("", "0")


def take_verbose_flag(argv: list[str]) -> list[str]:
    """`argv` without `--verbose`; when it was there, TensorFlow's own logging stays on."""
    if "--verbose" not in argv:
        return argv
    os.environ[VERBOSE_ENV] = "1"
    return [arg for arg in argv if arg != "--verbose"]


def import_keras() -> ModuleType:
    """Import Keras with the TensorFlow backend (about 3-4 s the first time)."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if not is_verbose():
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _lock:
        if "keras" in sys.modules:
            return sys.modules["keras"]
        with _native_stderr_filtered():
            import keras

    return keras


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Native work whose known start-up lines stay out of the terminal (a TFLite interpreter
    announces its XNNPACK delegate on stderr); anything else it writes still gets there."""
    with _native_stderr_filtered():
        yield


@contextlib.contextmanager
def _native_stderr_filtered() -> Iterator[None]:
    """Route file descriptor 2 to a temporary file while TensorFlow's native libraries load,
    then write what arrived back to stderr without the known start-up noise (a genuine
    message, from any thread, still reaches the terminal)."""
    if is_verbose():
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable stderr (a GUI launch without a console)
        yield
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            kept = [
                line
                for line in sink.read().decode("utf-8", "replace").splitlines(keepends=True)
                if not _NOISE.match(line)
            ]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def import_tensorflow() -> ModuleType:
    import_keras()
    import tensorflow as tf

    return tf


def versions() -> dict[str, str]:
    tf = import_tensorflow()
    keras = import_keras()
    info = {"tensorflow": tf.__version__, "keras": keras.__version__}
    build = tf.sysconfig.get_build_info()
    if build.get("cuda_version"):
        info["cuda"] = str(build["cuda_version"])
    return info

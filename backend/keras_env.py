"""Importing Keras on the TensorFlow backend, quietly and only when first needed."""

from __future__ import annotations

import os
import threading
from types import ModuleType

_lock = threading.Lock()


def import_keras() -> ModuleType:
    """Import Keras with the TensorFlow backend (about 3-4 s the first time)."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _lock:
        import keras

    return keras


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

"""Writing a model to `.keras` and reading one back safely."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from backend.keras_env import import_keras
from backend.paths import new_file_mode


class ModelFileError(ValueError):
    """A model file that cannot be written or read, naming the file."""


def save_keras(model: Any, path: str | Path) -> Path:
    """Save to `.keras` atomically: a temporary file beside the target, then a rename."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ModelFileError(f"{path}: a Keras model file must end in .keras")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".keras", dir=path.parent)
    except OSError as exc:  # a missing or read-only folder
        raise ModelFileError(f"{path}: cannot be written ({exc.strerror or exc})") from exc
    os.close(fd)
    try:
        model.save(tmp)
        os.chmod(tmp, new_file_mode(path))  # mkstemp made it private
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ModelFileError(f"{path}: cannot be written ({exc})") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_keras(path: str | Path) -> Any:
    """Load a `.keras` model with `safe_mode=True`: nothing in the file is executed."""
    keras = import_keras()
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{path}: no such file")
    try:
        return keras.models.load_model(path, safe_mode=True, compile=True)
    except Exception as exc:
        text = str(exc).strip().splitlines()
        first = text[0] if text else type(exc).__name__
        if "safe_mode" in str(exc) or "lambda" in str(exc).lower():
            first = "it contains code (a Lambda layer), which DeepCanvas never runs from a file"
        raise ModelFileError(f"{path}: cannot be loaded: {first}") from exc

"""Reading NumPy arrays from files without ever running code from them.

Plain arrays load with `allow_pickle=False`. A few Keras caches (IMDB, Reuters, CIFAR) store
ragged sequences or whole batches as pickles; those go through `RestrictedUnpickler`, which can
rebuild NumPy arrays, lists, dicts and strings and refuses every other global, so a tampered
file cannot execute anything (the same rule Keras' own loaders use).
"""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np

from backend.data.base import DatasetError

_ALLOWED_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    }
)


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles NumPy arrays and plain containers only."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only arrays are allowed")


def restricted_load(handle: IO[bytes], where: str) -> Any:
    try:
        return RestrictedUnpickler(handle, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as exc:
        raise DatasetError(f"{where}: not a plain array file ({exc})") from exc


def _read_member(raw: IO[bytes], where: str, allow_objects: bool) -> np.ndarray:
    buffer = io.BytesIO(raw.read())
    try:
        return np.lib.format.read_array(buffer, allow_pickle=False)
    except ValueError as exc:
        if not allow_objects or "allow_pickle" not in str(exc):
            raise DatasetError(f"{where}: {exc}") from exc
    buffer.seek(0)
    version = np.lib.format.read_magic(buffer)
    if version[0] == 1:
        np.lib.format.read_array_header_1_0(buffer)
    else:
        np.lib.format.read_array_header_2_0(buffer)
    value = restricted_load(buffer, where)
    if not isinstance(value, np.ndarray):
        raise DatasetError(f"{where}: expected an array, found {type(value).__name__}")
    return value


def load_npz(path: Path, names: list[str] | None = None, allow_objects: bool = False) -> dict:
    """Arrays of an `.npz` by name (all, or `names`); object arrays only when allowed."""
    arrays: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            members = {m[: -len(".npy")]: m for m in archive.namelist() if m.endswith(".npy")}
            for name in names if names is not None else list(members):
                if name not in members:
                    known = ", ".join(members) or "none"
                    raise DatasetError(f"{path}: no array named {name!r} (it holds: {known})")
                with archive.open(members[name]) as raw:
                    arrays[name] = _read_member(raw, f"{path} array {name!r}", allow_objects)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DatasetError(f"{path}: not a readable .npz file ({exc})") from exc
    return arrays


def npz_contents(path: Path) -> dict[str, tuple[tuple[int, ...], str]]:
    """Name -> (shape, dtype) of each array in an `.npz`, read from headers only."""
    contents: dict[str, tuple[tuple[int, ...], str]] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if not member.endswith(".npy"):
                    continue
                with archive.open(member) as raw:
                    contents[member[: -len(".npy")]] = _header(raw)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DatasetError(f"{path}: not a readable .npz file ({exc})") from exc
    return contents


def declared_bytes(shape: tuple[int, ...], dtype: str) -> int:
    """What an array of this header takes once read (its file may hold far less)."""
    count = 1
    for d in shape:
        count *= int(d)
    try:
        return count * np.dtype(dtype).itemsize
    except TypeError:
        return count * 8


def npy_contents(path: Path) -> tuple[tuple[int, ...], str]:
    try:
        with open(path, "rb") as raw:
            return _header(raw)
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path}: not a readable .npy file ({exc})") from exc


def _header(raw: IO[bytes]) -> tuple[tuple[int, ...], str]:
    version = np.lib.format.read_magic(raw)
    if version[0] == 1:
        shape, _order, dtype = np.lib.format.read_array_header_1_0(raw)
    else:
        shape, _order, dtype = np.lib.format.read_array_header_2_0(raw)
    return tuple(int(d) for d in shape), str(dtype)


def load_npy(path: Path) -> np.ndarray:
    """A `.npy` array, memory-mapped (nothing is read until used); never unpickled."""
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        raise DatasetError(f"{path}: {exc}") from exc
    except OSError as exc:
        raise DatasetError(f"{path}: not a readable .npy file ({exc})") from exc

"""What an export may write over: only what it would write itself, and never the user's work.

A file export replaces a file of its own kind that the user named; a SavedModel export replaces
an empty folder or an older SavedModel, nothing else (a folder of notes, or the folder holding
the project, would be emptied by the rename). No export replaces a DeepCanvas project (found
by its content, whatever its name), the files the caller asks to keep (the project it came
from, its weights, reached through any link), or a read-only file. Each refusal is an
`ExportError` naming the path and what is there, raised before any work is done.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from backend.exchange.keras_file import ModelFileError

SAVEDMODEL_ENTRIES = frozenset(
    {
        "saved_model.pb",
        "saved_model.pbtxt",
        "variables",
        "assets",
        "assets.extra",
        "fingerprint.pb",
        "keras_metadata.pb",
    }
)
"""What `tf.saved_model.save` and `model.export` put in a SavedModel folder."""
_SHOWN = 4


class ExportError(ModelFileError):
    """An export that cannot be written, converted or verified; names the file."""


def check_replaceable(
    path: Path, directory: bool, label: str, keep: Iterable[str | Path | None] = ()
) -> None:
    """ExportError when writing `path` (a folder when `directory`) would destroy something
    that is not an older export of the same kind."""
    for kept in keep:
        if kept is not None and _same_file(path, Path(kept)):
            raise ExportError(
                f"{path}: is the project's own file ({kept}): an export never replaces it; "
                "choose another name"
            )
    if not (path.exists() or path.is_symlink()):
        return
    if directory:
        _check_savedmodel_folder(path, keep)
        return
    if path.is_dir():
        raise ExportError(f"{path}: is a folder; a {label} export is a file: choose a file name")
    if is_project_file(path):
        raise ExportError(
            f"{path}: is a DeepCanvas project file: an export never replaces a project; "
            "choose another name"
        )
    check_writable(path)


def _check_savedmodel_folder(path: Path, keep: Iterable[str | Path | None]) -> None:
    if not path.is_dir():
        raise ExportError(
            f"{path}: exists and is not a folder; a SavedModel is a folder: choose another name"
        )
    entries = sorted(os.listdir(path))
    if not entries:
        return  # an empty folder: nothing is lost
    for kept in keep:
        if kept is not None and _inside(Path(kept), path):
            raise ExportError(
                f"{path}: holds the project's own file {kept}: a SavedModel export would "
                "replace the whole folder; choose a new or empty folder"
            )
    others = [e for e in entries if e not in SAVEDMODEL_ENTRIES]
    if others or not {"saved_model.pb", "saved_model.pbtxt"} & set(entries):
        shown = ", ".join((others or entries)[:_SHOWN])
        more = len(others or entries) - _SHOWN
        shown += f" and {more} more" if more > 0 else ""
        raise ExportError(
            f"{path}: is not a SavedModel folder (it holds {shown}): a SavedModel export "
            "replaces only an empty folder or an older SavedModel; choose a new or empty folder"
        )


def check_writable(path: Path) -> None:
    """ExportError for an existing file that is read-only (no write permission for its
    owner): replacing it by a rename would ignore what the user set."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if not mode & stat.S_IWUSR:
        raise ExportError(
            f"{path}: is read-only, so it was left as it is; make it writable "
            f"(chmod u+w) or choose another name"
        )


def is_project_file(path: Path) -> bool:
    """True for a DeepCanvas project document (its first bytes say so), whatever its name."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    text = head.lstrip()
    return text.startswith(b"{") and b'"format_version"' in text and b'"DeepCanvas"' in text


def _same_file(a: Path, b: Path) -> bool:
    """The same file, by resolved path or (a hard link) by device and inode."""
    try:
        if a.resolve() == b.resolve():
            return True
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False

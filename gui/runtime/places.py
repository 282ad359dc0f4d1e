"""Where a file dialog opens. Never the folder the app was started from: `make run` starts it in
the source checkout, so an empty start put a new user's projects and exports among the sources.

Projects (open, save, import) start in the project's folder, else the folder last chosen for a
project, else the home folder; exports in the folder last exported to (the Export dialog's
memory), else the project's folder, else home.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

PROJECT_FOLDER_KEY = "files/last_folder"
EXPORT_FOLDER_KEY = "export/last_folder"  # shared with gui.export.export_dialog


def settings() -> QSettings:
    return QSettings("DeepCanvas", "DeepCanvas")


def start_folder(project_path: str | Path | None, key: str = PROJECT_FOLDER_KEY) -> Path:
    """The first of: (for exports) the last export folder, the project's folder, the folder
    last chosen for `key`, the home folder; only folders that exist."""
    remembered = str(settings().value(key, "") or "")
    project = [Path(project_path).resolve().parent] if project_path else []
    order = (
        [*project, Path(remembered)] if key == PROJECT_FOLDER_KEY else [Path(remembered), *project]
    )
    for folder in order:
        if str(folder) not in ("", ".") and folder.is_absolute() and folder.is_dir():
            return folder
    return Path.home()


def suggested(project_path: str | Path | None, name: str, key: str = PROJECT_FOLDER_KEY) -> str:
    """`name` in the folder a dialog should open at."""
    return str(start_folder(project_path, key) / name)


def remember_folder(chosen: str | Path, key: str = PROJECT_FOLDER_KEY) -> None:
    """The folder of a path the user chose, for the next dialog of its kind."""
    if chosen:
        settings().setValue(key, str(Path(chosen).resolve().parent))

"""Where DeepCanvas keeps its own files (autosaves, settings): never beside the user's."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """`$DEEPCANVAS_HOME`, else `$XDG_DATA_HOME/deepcanvas`, else `~/.local/share/deepcanvas`."""
    explicit = os.environ.get("DEEPCANVAS_HOME")
    if explicit:
        path = Path(explicit)
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        path = Path(base) / "deepcanvas"
    path.mkdir(parents=True, exist_ok=True)
    return path

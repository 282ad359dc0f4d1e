"""Where DeepCanvas keeps its own files (autosaves, settings): never beside the user's."""

from __future__ import annotations

import os
import threading
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


def new_file_mode(path: Path, directory: bool = False) -> int:
    """Permission bits for a file (or folder) about to be renamed onto `path`: the ones it has
    already, else what the umask gives a new one. `tempfile.mkstemp`/`mkdtemp` make theirs
    private (0600/0700), and a rename keeps that: without this, every export and saved
    file would be readable by its owner alone."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return (0o777 if directory else 0o666) & ~_umask()


def _umask() -> int:
    """The process umask, read without changing it (`os.umask` sets it, for every thread)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


_umask_lock = threading.Lock()

"""The machine's memory: total and free RAM, for refusing what cannot fit before reading it."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path


def ram(meminfo: Path = Path("/proc/meminfo")) -> tuple[int, int] | None:
    """(total, available) bytes of RAM from `os.sysconf`, free memory from /proc/meminfo where
    there is one; None where the system does not say (Windows)."""
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        total = page * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no such name
        return None
    available = total
    try:
        found = re.search(r"^MemAvailable:\s+(\d+) kB", meminfo.read_text(), re.MULTILINE)
        if found:
            available = int(found.group(1)) * 1024
    except OSError:
        with contextlib.suppress(ValueError, OSError):
            available = page * os.sysconf("SC_AVPHYS_PAGES")
    return int(total), int(available)


def gib(value: float) -> str:
    return f"{value / 2**30:,.1f} GiB"

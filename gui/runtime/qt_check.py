"""Before `make run` opens a window: check that Qt can reach a display, and say what to install.

Run as `python -m gui.runtime.qt_check`. Exits 0 when a window can open (or when Qt is asked to
render offscreen), 1 with the one command that fixes it otherwise.
"""

from __future__ import annotations

import ctypes.util
import os
import sys

# Debian/Ubuntu packages that Qt's xcb platform plugin loads at start (Qt >= 6.5).
XCB_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "xcb-shape": "libxcb-shape0",
    "xcb-xkb": "libxcb-xkb1",
    "xkbcommon-x11": "libxkbcommon-x11-0",
    "xcb-render-util": "libxcb-render-util0",
    "xcb-image": "libxcb-image0",
    "EGL": "libegl1",
    "fontconfig": "libfontconfig1",
    "GL": "libgl1",
}


def missing_xcb_packages() -> list[str]:
    return [pkg for lib, pkg in XCB_LIBRARIES.items() if ctypes.util.find_library(lib) is None]


def problems() -> list[str]:
    if not sys.platform.startswith("linux"):
        return []
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform.startswith(("offscreen", "minimal", "wayland")):
        return []
    found: list[str] = []
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        found.append(
            "No display: DISPLAY is not set. Run on a desktop, under `xvfb-run make run`, "
            "or set QT_QPA_PLATFORM=offscreen for screenshots."
        )
    missing = missing_xcb_packages()
    if missing:
        found.append(
            "Qt's xcb platform plugin needs system libraries that are missing. Install them with:\n"
            f"    sudo apt-get install {' '.join(missing)}"
        )
    return found


def main() -> int:
    found = problems()
    for line in found:
        print(f"DeepCanvas: {line}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

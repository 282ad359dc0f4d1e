"""Loads TensorFlow and Keras on a background thread so the window shows at once."""

from __future__ import annotations

import time

from PySide6.QtCore import QThread, Signal

from backend.keras_bridge.catalog import layer_spec, palette_types
from backend.training.devices import describe_devices


class KerasLoader(QThread):
    """Imports Keras, reads the layer catalog and the devices; then emits `loaded`."""

    loaded = Signal(str, float)  # device description, seconds taken
    failed = Signal(str)

    def run(self) -> None:
        start = time.perf_counter()
        try:
            for type_name in palette_types():
                layer_spec(type_name)
            devices = describe_devices()
        except Exception as exc:
            self.failed.emit(f"TensorFlow could not be loaded: {exc}")
            return
        self.loaded.emit(devices, time.perf_counter() - start)

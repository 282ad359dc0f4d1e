"""The compute devices TensorFlow sees."""

from __future__ import annotations

import contextlib

from backend.keras_env import import_tensorflow


def list_devices() -> list[dict[str, str]]:
    tf = import_tensorflow()
    devices = [{"type": "CPU", "name": "CPU"}]
    for gpu in tf.config.list_physical_devices("GPU"):
        # Growth must be set before the GPU is first used; later it raises RuntimeError.
        with contextlib.suppress(RuntimeError):
            tf.config.experimental.set_memory_growth(gpu, True)
        details = tf.config.experimental.get_device_details(gpu)
        devices.append({"type": "GPU", "name": str(details.get("device_name", gpu.name))})
    return devices


def describe_devices() -> str:
    gpus = [d["name"] for d in list_devices() if d["type"] == "GPU"]
    return "GPU: " + ", ".join(gpus) if gpus else "CPU (TensorFlow sees no GPU)"

"""The compute devices TensorFlow sees."""

from __future__ import annotations

from backend.keras_env import import_tensorflow


def list_devices() -> list[dict[str, str]]:
    tf = import_tensorflow()
    devices = [{"type": "CPU", "name": "CPU"}]
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:
            pass  # already initialised: growth must be set before first use
        details = tf.config.experimental.get_device_details(gpu)
        devices.append({"type": "GPU", "name": str(details.get("device_name", gpu.name))})
    return devices


def describe_devices() -> str:
    gpus = [d["name"] for d in list_devices() if d["type"] == "GPU"]
    return "GPU: " + ", ".join(gpus) if gpus else "CPU (TensorFlow sees no GPU)"

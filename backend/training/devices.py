"""The compute devices TensorFlow sees."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

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
    if gpus:
        return "GPU: " + ", ".join(gpus)
    problem = gpu_help()
    return f"CPU only: {problem}" if problem else "CPU (TensorFlow sees no GPU)"


NO_GPU_FIX = "pip install 'tensorflow[and-cuda]'"


def machine_has_nvidia_gpu() -> bool:
    return Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi") is not None


def gpu_help() -> str | None:
    """Why TensorFlow sees no GPU on a machine that has one, and the fix; None if not the case."""
    tf = import_tensorflow()
    if tf.config.list_physical_devices("GPU") or not machine_has_nvidia_gpu():
        return None
    cuda = tf.sysconfig.get_build_info().get("cuda_version")
    if not cuda:
        return (
            "this machine has an NVIDIA GPU but the installed TensorFlow has no CUDA support; "
            f"install it with: {NO_GPU_FIX}"
        )
    return (
        f"this machine has an NVIDIA GPU but TensorFlow (built for CUDA {cuda}) cannot use it: "
        f"the CUDA libraries or the driver do not match. Reinstall with: {NO_GPU_FIX}"
    )

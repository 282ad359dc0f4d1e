"""The memory a model can use here: free RAM, or what TensorFlow may take on a GPU.

Read by the training memory estimate (`backend.analysis.memory`) and by the compiler, which
refuses to create weights that cannot fit (`backend.keras_bridge.weight_budget`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from backend.data.ram import ram


@dataclass(frozen=True)
class DeviceMemory:
    kind: str  # "GPU" or "RAM"
    name: str
    total: int
    available: int
    """What training can still take now: free RAM, or the GPU's limit less TensorFlow's use."""
    replicas: int = 1
    """Devices that share the batch (mirrored training on every GPU), each of this size."""


def ram_memory(meminfo: Path = Path("/proc/meminfo")) -> DeviceMemory | None:
    """The machine's RAM (`backend.data.ram`): total, and free from /proc/meminfo."""
    found = ram(meminfo)
    if found is None:
        return None
    return DeviceMemory("RAM", "system memory", *found)


@cache
def gpu_limits() -> tuple[tuple[str, int], ...]:
    """(name, bytes TensorFlow may use) of each GPU; asked once, they do not change."""
    from backend.keras_env import import_tensorflow

    tf = import_tensorflow()
    if not tf.config.list_physical_devices("GPU"):
        return ()
    from tensorflow.python.client import device_lib

    config = tf.compat.v1.ConfigProto()
    config.gpu_options.allow_growth = True  # listing must not reserve the GPU's memory
    return tuple(
        (gpu_name(str(device.physical_device_desc)), int(device.memory_limit))
        for device in device_lib.list_local_devices(session_config=config)
        if device.device_type == "GPU"
    )


def gpu_name(description: str) -> str:
    """`NVIDIA H100 80GB HBM3` from TensorFlow's 'device: 0, name: ..., pci bus id: ...'."""
    found = re.search(r"name: ([^,]+)", description)
    return found.group(1).strip() if found else "GPU"


def gpu_memory(index: int = 0, replicas: int = 1) -> DeviceMemory | None:
    limits = gpu_limits()
    if not 0 <= index < len(limits):
        return None
    name, total = limits[index]
    from backend.keras_env import import_tensorflow

    tf = import_tensorflow()
    try:
        used = int(tf.config.experimental.get_memory_info(f"GPU:{index}")["current"])
    except (ValueError, RuntimeError):
        used = 0
    return DeviceMemory("GPU", name, total, max(0, total - used), replicas)

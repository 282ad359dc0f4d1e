"""Training memory against the device: the estimate's parts, the optimizer's real state, RAM."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backend.analysis.memory import (
    DeviceMemory,
    device_memory,
    gpu_name,
    memory_warning,
    optimizer_slots,
    ram_memory,
    training_memory,
    training_memory_warning,
)
from backend.analysis.summary import Analysis
from backend.document.graph import LayerGraph
from backend.document.project import DatasetChoice, Project
from backend.document.training_config import OPTIMIZERS, TrainingConfig
from backend.keras_bridge.compiler import compile_graph
from backend.keras_bridge.shapes import ShapeInference
from backend.templates.examples import digits_cnn
from backend.training.optimizers import make_optimizer

ChainBuilder = Callable[..., list[str]]


def test_the_estimate_adds_weights_gradients_adam_state_and_a_batch_of_activations() -> None:
    project = digits_cnn()
    project.training.batch_size = 64
    totals = Analysis().summarize(project.graph, ShapeInference().infer(project.graph)).totals
    estimate = training_memory(totals, project.training)
    weights = totals.params * 4
    assert (estimate.weights, estimate.gradients, estimate.optimizer) == (
        weights,
        weights,
        2 * weights,
    )
    assert estimate.activations == 64 * totals.activation_bytes
    assert estimate.total == 4 * weights + 64 * totals.activation_bytes
    assert estimate.describe().endswith(")") and "at batch 64" in estimate.describe()


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_optimizer_state_matches_what_keras_allocates(
    optimizer: str, momentum: float, chain: ChainBuilder, keras: Any
) -> None:
    graph = LayerGraph()
    chain(graph, ("Input", {"shape": [6]}), ("Dense", {"units": 5}), ("Dense", {"units": 2}))
    model = compile_graph(graph)
    config = TrainingConfig(optimizer=optimizer, momentum=momentum)
    keras_optimizer = make_optimizer(config)
    keras_optimizer.build(model.trainable_variables)
    state = sum(math.prod(v.shape) for v in keras_optimizer.variables if len(v.shape) > 0)
    assert state == optimizer_slots(config) * model.count_params()


def test_ram_is_read_from_sysconf_and_meminfo(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000000 kB\nMemAvailable:    1234567 kB\n")
    ram = ram_memory(meminfo)
    assert ram is not None and ram.kind == "RAM"
    assert ram.total == os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert ram.available == 1234567 * 1024


def test_ram_without_meminfo_falls_back_to_free_pages(tmp_path: Path) -> None:
    ram = ram_memory(tmp_path / "missing")
    assert ram is not None and 0 < ram.available <= ram.total


def test_this_machine_reports_its_gpu_or_its_ram(keras: Any) -> None:
    import tensorflow as tf

    device = device_memory()
    assert device is not None and device.total > 0
    expected = "GPU" if tf.config.list_physical_devices("GPU") else "RAM"
    assert device.kind == expected


def test_gpu_name_is_read_from_tensorflows_description() -> None:
    text = (
        "device: 0, name: NVIDIA H100 80GB HBM3, pci bus id: 0000:00:05.0, compute capability: 9.0"
    )
    assert gpu_name(text) == "NVIDIA H100 80GB HBM3"
    assert gpu_name("something else") == "GPU"


def test_a_model_that_fits_gets_no_warning() -> None:
    project = digits_cnn()
    shapes = ShapeInference().infer(project.graph)
    assert training_memory_warning(project, shapes) is None


def test_a_batch_too_large_for_this_machine_is_warned_before_training(
    chain: ChainBuilder,
) -> None:
    graph = LayerGraph()
    chain(
        graph,
        ("Input", {"shape": [512, 512, 3]}),
        ("Conv2D", {"filters": 64, "kernel_size": [3, 3], "padding": "same"}),
        ("GlobalAveragePooling2D", {}),
        ("Dense", {"units": 10, "activation": "softmax"}),
    )
    project = Project(graph, DatasetChoice("digits"), TrainingConfig(batch_size=1_000_000))
    warning = training_memory_warning(project, ShapeInference().infer(graph), Analysis())
    assert warning is not None
    assert warning.startswith("Training needs about ") and "at batch 1000000" in warning
    assert "Lower the batch size" in warning


def test_the_warning_names_the_gpu_and_what_is_free() -> None:
    project = digits_cnn()
    totals = Analysis().summarize(project.graph, ShapeInference().infer(project.graph)).totals
    estimate = training_memory(totals, project.training)
    gpu = DeviceMemory("GPU", "NVIDIA H100", 80 << 30, 1 << 10)
    warning = memory_warning(estimate, gpu)
    assert warning is not None and "the 1.0 KiB free on NVIDIA H100" in warning
    roomy = DeviceMemory("GPU", "NVIDIA H100", 80 << 30, 80 << 30)
    assert memory_warning(estimate, roomy) is None
    assert memory_warning(estimate, None) is None


def test_mirrored_replicas_share_the_batch_and_mixed_precision_halves_activations() -> None:
    project = digits_cnn()
    totals = Analysis().summarize(project.graph, ShapeInference().infer(project.graph)).totals
    config = TrainingConfig(batch_size=30)
    whole = training_memory(totals, config)
    split = training_memory(totals, config, replicas=4)
    assert split.batch_size == 8 and split.activations == 8 * totals.activation_bytes
    assert split.weights == whole.weights and split.optimizer == whole.optimizer
    half = training_memory(totals, TrainingConfig(batch_size=30, mixed_precision=True))
    assert half.activations == whole.activations // 2


def test_training_on_the_cpu_is_measured_against_ram(keras: Any) -> None:
    device = device_memory("cpu")
    assert device is not None and device.kind == "RAM" and device.replicas == 1
    assert device_memory("gpu:7") is not None  # no such GPU: training falls back to RAM

"""Scale-out: strategies, TF_CONFIG checks, and two real workers on 127.0.0.1 training together."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backend.data import Dataset
from backend.document.project import save_project
from backend.keras_bridge.weights import load_weights
from backend.templates.examples import moons_mlp
from backend.training.distributed import (
    DistributedError,
    StrategyTrainer,
    make_trainer,
    parse_devices,
    parse_tf_config,
)
from backend.training.trainer import EpochEnd, TrainBegin, TrainEnd, Trainer, TrainingEvent

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKER_TIMEOUT_S = 240


def tf_config(ports: list[int], index: int, job: str = "worker") -> str:
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    return json.dumps({"cluster": cluster, "task": {"type": job, "index": index}})


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


# ----------------------------------------------------------------- TF_CONFIG and devices
def test_a_good_tf_config_is_read() -> None:
    cluster = parse_tf_config(tf_config([2222, 2223], 1))
    assert cluster.workers == ("127.0.0.1:2222", "127.0.0.1:2223")
    assert cluster.address == "127.0.0.1:2223" and cluster.size == 2
    assert not cluster.is_chief and parse_tf_config(tf_config([1, 2], 0)).is_chief


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "TF_CONFIG is not set"),
        ('{"cluster": ', "not valid JSON"),
        ("[]", 'needs a "cluster"'),
        ('{"cluster": {"ps": ["a:1"]}, "task": {}}', "ps: multiworker training uses"),
        ('{"cluster": {"worker": ["nohost"]}, "task": {"type": "worker"}}', "'nohost' is not"),
        ('{"cluster": {"worker": ["h:99999"]}, "task": {"type": "worker"}}', "is not"),
        ('{"cluster": {"worker": "h:1"}, "task": {"type": "worker"}}', "must be a list"),
        ('{"cluster": {"worker": ["h:1"]}}', 'needs "task"'),
        ('{"cluster": {"worker": ["h:1"]}, "task": {"type": "worker", "index": 3}}', "index 3"),
        ('{"cluster": {"worker": ["h:1"]}, "task": {"type": "worker", "index": "0"}}', "'0'"),
    ],
)
def test_a_bad_tf_config_says_what_is_wrong(text: str | None, message: str) -> None:
    with pytest.raises(DistributedError, match="TF_CONFIG") as info:
        parse_tf_config(text)
    assert message in str(info.value)


def test_devices_are_parsed_and_checked() -> None:
    assert parse_devices("cpu") == ["/CPU:0"]
    assert parse_devices("GPU:1, gpu") == ["/GPU:1", "/GPU:0"]
    assert parse_devices(None) == []
    with pytest.raises(DistributedError, match="'tpu' is not cpu, gpu or gpu:N"):
        parse_devices("tpu")


def test_make_trainer_refuses_bad_combinations(moons: Dataset) -> None:
    graph, config = moons_mlp().graph, moons_mlp().training
    with pytest.raises(DistributedError, match="unknown strategy 'ring'"):
        make_trainer(graph, moons, config, strategy="ring")
    with pytest.raises(DistributedError, match="one device: use --strategy mirrored"):
        make_trainer(graph, moons, config, device="gpu:0,gpu:1")
    with pytest.raises(DistributedError, match="leave --device out"):
        make_trainer(graph, moons, config, strategy="multiworker", device="cpu")
    assert type(make_trainer(graph, moons, config)) is Trainer  # plain fit, as the GUI trains


# ----------------------------------------------------------------- one machine
@pytest.mark.parametrize(("strategy", "device"), [("mirrored", None), ("default", "cpu")])
def test_a_strategy_trains_through_fit_with_the_usual_events(
    moons: Dataset, strategy: str, device: str | None
) -> None:
    project = moons_mlp()
    project.training.epochs = 2
    events: list[TrainingEvent] = []
    trainer = make_trainer(project.graph, moons, project.training, events.append, strategy, device)
    assert isinstance(trainer, StrategyTrainer)
    result = trainer.run()
    assert result.status == "completed", result.message
    assert trainer.replicas == 1  # one CPU here
    assert isinstance(events[0], TrainBegin) and isinstance(events[-1], TrainEnd)
    assert [e.epoch for e in events if isinstance(e, EpochEnd)] == [0, 1]
    assert (
        len(result.history["loss"]) == 2 and result.history["loss"][1] < result.history["loss"][0]
    )
    assert result.model.distribute_strategy.num_replicas_in_sync == 1


def test_a_device_tensorflow_does_not_see_fails_the_run(moons: Dataset) -> None:
    events: list[TrainingEvent] = []
    trainer = make_trainer(
        moons_mlp().graph, moons, moons_mlp().training, events.append, "default", "gpu:7"
    )
    result = trainer.run()
    assert result.status == "failed" and "TensorFlow sees no GPU:7" in result.message
    assert isinstance(events[-1], TrainEnd) and events[-1].status == "failed"


# ----------------------------------------------------------------- several workers
def start_worker(project: Path, ports: list[int], index: int, out: Path, timeout: float) -> Any:
    env = {
        **os.environ,
        "TF_CONFIG": tf_config(ports, index),
        "PYTHONUNBUFFERED": "1",
        "CUDA_VISIBLE_DEVICES": "",
    }
    command = [
        sys.executable,
        "main.py",
        "train",
        str(project),
        "--strategy",
        "multiworker",
        "--json",
        "--connect-timeout",
        str(timeout),
        "--weights-out",
        str(out),
    ]
    return subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(workers: list[Any]) -> list[tuple[int, str, str]]:
    results = []
    try:
        for worker in workers:
            out, err = worker.communicate(timeout=WORKER_TIMEOUT_S)
            results.append((worker.returncode, out, err))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    return results


@pytest.mark.slow
def test_two_workers_train_together_and_end_with_identical_weights(tmp_path: Path) -> None:
    project = moons_mlp()
    project.training.epochs = 2
    project.training.batch_size = 40  # 420 training samples: the last global batch is partial
    path = save_project(project, tmp_path / "moons.dcproj.json")
    ports = free_ports(2)
    outs = [tmp_path / f"worker{i}.weights.npz" for i in range(2)]
    results = finish([start_worker(path, ports, i, outs[i], 120) for i in range(2)])

    ends = []
    for (code, out, err), weights in zip(results, outs, strict=True):
        assert code == 0, err[-3000:]
        events = [json.loads(line) for line in out.splitlines()]
        assert events[0] == {
            "event": "train_begin",
            "epochs": 2,
            "steps_per_epoch": 11,
            "heads": [],
        }
        assert [e["epoch"] for e in events if e["event"] == "epoch_end"] == [0, 1]
        end = next(e for e in events if e["event"] == "train_end")
        assert end["status"] == "completed", end["message"]
        assert set(end["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
        assert all(len(v) == 2 for v in end["history"].values())
        assert end["history"]["loss"][1] < end["history"]["loss"][0]
        assert events[-1] == {"event": "weights_written", "path": str(weights)}
        ends.append(end)
    assert ends[0]["history"] == ends[1]["history"]  # all-reduced: the same numbers everywhere

    first, second = load_weights(outs[0]), load_weights(outs[1])
    assert sorted(first) == sorted(second) and len(first) == 6  # 3 Dense: kernel and bias each
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])
    initial = moons_initial_weights(project)
    assert any(not np.array_equal(first[k], initial[k]) for k in first), "nothing was trained"


def moons_initial_weights(project: Any) -> dict[str, np.ndarray]:
    """The weights every worker starts from (the project's seed)."""
    from backend.keras_bridge.compiler import compile_graph
    from backend.keras_bridge.weights import collect_weights
    from backend.keras_env import import_keras

    import_keras().utils.set_random_seed(project.training.seed)
    return collect_weights(compile_graph(project.graph))


@pytest.mark.slow
def test_a_worker_whose_peer_never_comes_gives_up_in_bounded_time(tmp_path: Path) -> None:
    path = save_project(moons_mlp(), tmp_path / "moons.dcproj.json")
    out = tmp_path / "alone.weights.npz"
    started = time.monotonic()
    ((code, _out, err),) = finish([start_worker(path, free_ports(2), 0, out, 3)])
    assert code == 1
    assert "no answer from 127.0.0.1:" in err and "did not come up within 3 s" in err
    assert "Traceback" not in err
    assert time.monotonic() - started < 90
    assert list(tmp_path.iterdir()) == [path]  # no weights, nothing partial

"""Execution settings: several batches a call train exactly what one a call does, the run
record says what was used, Stop and Pause act within one call, and the choice is the
settings' or the app's (estimated, then measured)."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backend.data import Dataset
from backend.document.graph import LayerGraph
from backend.document.project import Project, load_project, save_project
from backend.document.training_config import TrainingConfig
from backend.keras_env import import_tensorflow
from backend.training.execution import (
    MAX_STEPS,
    TARGET_CALL_S,
    ExecutionMemory,
    forward_flops,
    plan_execution,
)
from backend.training.recording import RunClock, record_run
from backend.training.trainer import BatchEnd, Trainer, TrainingEvent

TRAIN = 200  # 13 batches of 16: a call of 5 or 8 batches ends each epoch short
BATCH = 16


def _graph() -> LayerGraph:
    """Dropout draws random numbers every step: its stream must not change either."""
    graph = LayerGraph()
    ids = [
        graph.add_node("Input", {"shape": [4]}).id,
        graph.add_node("Dense", {"units": 16, "activation": "relu"}).id,
        graph.add_node("Dropout", {"rate": 0.3}).id,
        graph.add_node("Dense", {"units": 3, "activation": "softmax"}).id,
    ]
    for a, b in itertools.pairwise(ids):
        graph.connect(a, b)
    return graph


@pytest.fixture(scope="module")
def data() -> Dataset:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(TRAIN + 40, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0.5).astype("int64")
    return Dataset(
        "blobs", "classification", x[:TRAIN], y[:TRAIN], x[TRAIN:], y[TRAIN:], x[:0], y[:0],
        ["a", "b", "c"],
    )  # fmt: skip


def _train(data: Dataset, **settings: Any) -> tuple[Any, list[TrainingEvent]]:
    events: list[TrainingEvent] = []
    config = TrainingConfig(**{"epochs": 3, "batch_size": BATCH, "learning_rate": 0.05, **settings})
    result = Trainer(_graph(), data, config, on_event=events.append, batch_interval_s=0.0).run()
    assert result.status == "completed", result.message
    return result, events


def _maths(history: dict[str, list[float]]) -> dict[str, list[float]]:
    return {key: values for key, values in history.items() if key != "samples_per_s"}


def _batch_losses(events: list[TrainingEvent]) -> list[tuple[int, int, float]]:
    return [
        (e.epoch, step, loss) for e in events if isinstance(e, BatchEnd) for step, loss in e.losses
    ]


def test_batches_per_call_train_the_same_weights_with_the_same_best_epoch(data: Dataset) -> None:
    """Early stopping and the best epoch's weights on, 13 batches an epoch in calls of 5."""
    stopping = {"epochs": 6, "early_stopping": True, "patience": 1, "checkpoint": True}
    one, one_events = _train(data, steps_per_execution=1, **stopping)
    five, five_events = _train(data, steps_per_execution=5, **stopping)

    assert five.execution["steps_per_execution"] == 5
    assert five.execution["chosen_by"] == "settings"
    assert one.execution["steps_per_execution"] == 1
    for a, b in zip(one.model.get_weights(), five.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert _maths(one.history) == _maths(five.history)
    assert one.best_epoch == five.best_epoch
    # each batch's own loss still reaches the curves, batch by batch, in calls of 5
    per_call = _batch_losses(five_events)
    per_batch = _batch_losses(one_events)
    assert [(e, s) for e, s, _ in per_call] == [(e, s) for e, s, _ in per_batch]
    assert [(e, s) for e, s, _ in per_call[:13]] == [(0, s) for s in range(13)]
    np.testing.assert_allclose([v for *_, v in per_call], [v for *_, v in per_batch], rtol=1e-4)
    steps = [e.step for e in five_events if isinstance(e, BatchEnd) and e.epoch == 0]
    assert steps == [4, 9, 12]  # one event per call, the short last call at the epoch's end


def test_the_app_estimates_then_measures_and_the_record_says_so(
    data: Dataset, tmp_path: Path
) -> None:
    first, _ = _train(data, epochs=2)
    second, _ = _train(data, epochs=2)

    plan = first.execution
    assert plan["chosen_by"] == "estimated" and plan["jit_compile"] is False
    assert 1 <= plan["steps_per_execution"] <= 13  # never more than an epoch
    assert plan["built_ahead"] is True
    measured = plan["measured"]
    assert measured["step_ms"] > 0 and measured["first_call_s"] > 0
    assert second.execution["chosen_by"] == "measured"
    assert second.execution["step_ms"] == measured["step_ms"]

    project = Project(_graph())
    record = record_run(
        project,
        second,
        RunClock.start(),
        graph_data=project.graph.to_dict(),
        dataset=project.dataset,
        config=TrainingConfig(epochs=2, batch_size=BATCH),
    )
    assert record.execution == second.execution
    path = tmp_path / "p.dcproj.json"
    save_project(project, path)
    assert load_project(path).runs[-1].execution == second.execution


def test_stop_and_pause_act_within_one_call(data: Dataset) -> None:
    """Paused at the first call's end (4 batches), training waits there; Stop then ends it
    before another call: exactly 4 optimizer steps, however long the pause."""
    config = TrainingConfig(epochs=3, batch_size=BATCH, steps_per_execution=4)
    trainer = Trainer(_graph(), data, config, batch_interval_s=0.0)
    model = trainer.build_model()
    first_step: list[int] = []
    while_paused: list[int] = []

    def stop_later() -> None:
        time.sleep(0.5)  # the training thread waits in the pause meanwhile
        while_paused.append(int(model.optimizer.iterations.numpy()))
        trainer.request_stop()

    def on_event(event: TrainingEvent) -> None:
        if isinstance(event, BatchEnd) and not first_step:
            first_step.append(event.step)
            trainer.pause()
            threading.Thread(target=stop_later, daemon=True).start()

    trainer.on_event = on_event
    result = trainer.run(model)

    assert result.status == "stopped"
    assert first_step == [3] and while_paused == [4]
    assert int(model.optimizer.iterations.numpy()) == 4


def test_settings_choose_and_the_app_keeps_calls_short(keras: Any) -> None:
    inputs = keras.Input((32,))
    model = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Dense(128)(inputs)))
    assert forward_flops(model) == 2 * (32 * 128 + 128 + 128 * 10 + 10)

    auto = plan_execution(model, TrainingConfig(), 500, "cpu")
    assert auto.chosen_by == "estimated"
    assert auto.steps_per_execution & (auto.steps_per_execution - 1) == 0  # a power of two
    assert auto.steps_per_execution * auto.step_ms <= TARGET_CALL_S * 1000
    assert 1 < auto.steps_per_execution <= MAX_STEPS
    long_run = TrainingConfig(epochs=1000)
    assert plan_execution(model, long_run, 3, "cpu").steps_per_execution == 2  # an epoch: 3
    short = plan_execution(model, TrainingConfig(epochs=2), 50, "cpu")  # 100 steps in all
    assert short.steps_per_execution == 1  # saving 100 calls does not pay for the loop's trace
    sequence = keras.Input((20, 8))
    recurrent = keras.Model(sequence, keras.layers.Dense(4)(keras.layers.LSTM(8)(sequence)))
    assert plan_execution(recurrent, long_run, 500, "cpu").steps_per_execution == 1
    slow = {"plain": {"step_ms": 40.0, "first_call_s": 1.0}}
    assert plan_execution(model, TrainingConfig(), 500, "cpu", slow).steps_per_execution == 1
    mine = plan_execution(model, TrainingConfig(steps_per_execution=32, jit_compile=True), 9, "cpu")
    assert (mine.steps_per_execution, mine.jit_compile, mine.chosen_by) == (9, True, "settings")

    # XLA: off unless this model measured faster with it here, compile time included
    faster = {
        "plain": {"step_ms": 2.0, "first_call_s": 1.0},
        "xla": {"step_ms": 1.0, "first_call_s": 3.0},
    }
    hundred = TrainingConfig(epochs=100)
    assert plan_execution(model, hundred, 500, "cpu", faster).jit_compile is True
    assert plan_execution(model, TrainingConfig(epochs=1), 500, "cpu", faster).jit_compile is False
    assert plan_execution(model, hundred, 500, "cpu", slow).jit_compile is False
    off = TrainingConfig(epochs=100, jit_compile=False)
    assert plan_execution(model, off, 500, "cpu", faster).jit_compile is False


def test_the_memory_of_step_times_survives_a_damaged_file(tmp_path: Path) -> None:
    import_tensorflow()
    memory = ExecutionMemory(tmp_path / "execution.json")
    key = ExecutionMemory.key("abc", TrainingConfig(), "cpu")
    assert key != ExecutionMemory.key("abc", TrainingConfig(batch_size=64), "cpu")
    memory.remember(key, False, {"step_ms": 1.5, "first_call_s": 0.4})
    memory.remember(key, True, {"step_ms": 0.9, "first_call_s": 3.0})
    memory.remember(key, False, {"first_call_s": 0.4})  # nothing measured: kept as it was
    assert memory.recall(key) == {
        "plain": {"step_ms": 1.5, "first_call_s": 0.4},
        "xla": {"step_ms": 0.9, "first_call_s": 3.0},
    }
    (tmp_path / "execution.json").write_text("{not json", encoding="utf-8")
    assert memory.recall(key) is None


def test_older_projects_and_bad_values_in_the_execution_settings() -> None:
    old = TrainingConfig.from_dict({"jit_compile": False})  # saved before "auto" existed
    assert old.jit_compile is False and old.steps_per_execution == 0
    assert TrainingConfig.from_dict({}).jit_compile is None
    with pytest.raises(ValueError, match="jit_compile"):
        TrainingConfig.from_dict({"jit_compile": "yes"})
    with pytest.raises(ValueError, match="batches per call"):
        TrainingConfig.from_dict({"steps_per_execution": -1})
    with pytest.raises(ValueError, match="steps_per_execution"):
        TrainingConfig.from_dict({"steps_per_execution": 2.5})


def test_a_script_trains_with_the_batches_per_call_the_settings_ask() -> None:
    from backend.exchange.codegen_training import training_functions, training_plan
    from backend.templates.examples import moons_mlp

    project = moons_mlp()
    project.training.steps_per_execution = 8
    assert "steps_per_execution=8," in "\n".join(
        training_functions(project, training_plan(project, None))
    )
    project.training.steps_per_execution = 0  # auto: the app's choice is per run and machine
    assert "steps_per_execution" not in "\n".join(
        training_functions(project, training_plan(project, None))
    )


def test_the_validation_step_traced_ahead_is_traced_once_and_changes_nothing(
    data: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The helper thread traces the validation step and measures the probe before training
    during the first call; validation then finds its step traced (each step traced exactly
    once), and the run trains and reports what it did without the helper."""
    from backend.training import trace_ahead
    from backend.training.probe import Probe
    from backend.training.trace_ahead import traced_step

    measure, threads = Probe.measure, []

    def spied(probe: Probe, snapshot: Any = None) -> Any:
        threads.append(threading.current_thread().name)
        return measure(probe, snapshot)

    monkeypatch.setattr(Probe, "measure", spied)
    monkeypatch.setattr(trace_ahead, "idle_core", lambda: True)
    ahead, ahead_events = _train(data, epochs=2, steps_per_execution=1)
    assert threads == ["trace-ahead", "MainThread", "MainThread"]  # before training; 2 epochs
    assert ahead.execution["validation_traced_ahead"] is True
    model = ahead.model
    assert traced_step(model.train_function).experimental_get_tracing_count() == 1
    assert traced_step(model.test_function).experimental_get_tracing_count() == 1

    monkeypatch.setattr(trace_ahead, "idle_core", lambda: False)  # no helper
    plain, plain_events = _train(data, epochs=2, steps_per_execution=1)
    assert plain.execution["validation_traced_ahead"] is False
    assert _maths(plain.history) == _maths(ahead.history)
    assert _story(plain_events) == _story(ahead_events)  # the probe's alerts included
    for a, b in zip(plain.model.get_weights(), ahead.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def _story(events: list[TrainingEvent]) -> list[str]:
    """Each event's kind, and what an alert says, in order."""
    return [f"{type(e).__name__} {getattr(e, 'alert', '')}" for e in events]


def test_a_busy_machine_trains_without_the_helper(
    data: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No core to spare: everything runs on the training thread, as plain `fit` would."""
    from backend.training import trace_ahead

    monkeypatch.setattr(trace_ahead, "idle_core", lambda: False)
    result, _ = _train(data, epochs=1, steps_per_execution=1)
    assert result.execution["validation_traced_ahead"] is False

    monkeypatch.undo()
    cores = {"cores": 2, "load": 0.5}
    monkeypatch.setattr(trace_ahead.os, "sched_getaffinity", lambda _pid: range(cores["cores"]))
    monkeypatch.setattr(trace_ahead.os, "getloadavg", lambda: (cores["load"], 0.0, 0.0))
    assert trace_ahead.idle_core()
    cores["load"] = 2.4  # two cores, both busy and more waiting
    assert not trace_ahead.idle_core()
    cores.update(cores=8, load=6.5)
    assert trace_ahead.idle_core()
    cores.update(cores=1, load=0.0)  # one core: never a helper
    assert not trace_ahead.idle_core()

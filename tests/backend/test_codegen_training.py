"""Python export, training half: the script trains exactly as the app's trainer does.

Each project starts from stored weights (the script loads them too), so the app's `Trainer`
and the exported script, run as a user runs it in a fresh interpreter, see the same numbers:
their histories (learning rate included), early-stopping epoch and final weights must agree.
"""

from __future__ import annotations

import inspect
import itertools
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backend.data import load_dataset, tabular
from backend.document.graph import LayerGraph
from backend.document.project import DatasetChoice, Project, save_project
from backend.document.training_config import TrainingConfig
from backend.exchange.codegen import generate_script, write_script
from backend.exchange.codegen_training import schedule_function
from backend.keras_bridge.compiler import compile_graph
from backend.keras_bridge.weights import collect_weights, resolved_training, save_weights
from backend.keras_env import import_keras
from backend.templates.examples import moons_mlp
from backend.training.optimizers import epoch_learning_rate
from backend.training.setup import class_weights, extra_callbacks
from backend.training.trainer import Trainer, TrainResult
from tests.script_runner import run_in_subprocess

# The exported script run as `python script.py` (its __main__ block), with `Model.fit`
# watched to record the callbacks (as constructed, before training changes their state) and
# class weights the script passes to it.
_RUNNER = """
import inspect, json, runpy, sys, warnings
import numpy as np
import keras

def settings(callback):
    names = inspect.signature(type(callback).__init__).parameters
    return [type(callback).__name__, {k: v for k, v in vars(callback).items()
            if k in names and isinstance(v, (int, float, str, bool, type(None)))}]

calls = []
fit = keras.Model.fit
def watched_fit(self, *args, **kwargs):
    calls.append({
        "callbacks": [settings(c) for c in kwargs.get("callbacks") or []],
        "class_weight": {str(k): v for k, v in (kwargs.get("class_weight") or {}).items()},
    })
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(self, *args, **kwargs)
    calls[-1]["warnings"] = [str(w.message) for w in caught]
    return history
keras.Model.fit = watched_fit

out = {}
for path in sys.argv[2:]:
    calls.clear()
    keras.mixed_precision.set_global_policy("float32")
    ns = runpy.run_path(path, run_name="__main__")
    model = ns["model"]
    np.savez(path + ".npz", *model.get_weights())
    out[path] = {
        **calls[-1],
        "history": ns["history"].history,
        "optimizer": type(model.optimizer).__name__,
        "policy": model.dtype_policy.name,
        "execution": [model.steps_per_execution, bool(model.jit_compile)],
    }
with open(sys.argv[1], "w") as handle:
    json.dump(out, handle)
"""


def run_scripts(scripts: list[Path], workdir: Path) -> dict[str, dict[str, Any]]:
    return run_in_subprocess(_RUNNER, scripts, workdir, timeout=600)


def settings(callback: Any) -> list[Any]:
    """A callback's class and constructor settings (as the runner reads them)."""
    names = inspect.signature(type(callback).__init__).parameters
    values = {
        k: v
        for k, v in vars(callback).items()
        if k in names and isinstance(v, (int, float, str, bool, type(None)))
    }
    return [type(callback).__name__, values]


def with_stored_weights(project: Project, folder: Path, name: str) -> Project:
    """The project saved with weights beside it, which both the app and the script load."""
    keras = import_keras()
    keras.utils.set_random_seed(project.training.seed)
    save_weights(collect_weights(compile_graph(project.graph)), folder / f"{name}.weights.npz")
    project.training.initial_weights = f"{name}.weights.npz"
    save_project(project, folder / f"{name}.dcproj.json")
    return project


def tumour_mlp(**training: Any) -> Project:
    """An imbalanced binary task (212 malignant, 357 benign): class weights matter."""
    graph = LayerGraph()
    ids = [
        graph.add_node("Input", {"shape": [30]}).id,
        graph.add_node("BatchNormalization").id,
        graph.add_node("Dense", {"units": 8, "activation": "relu"}).id,
        graph.add_node("Dense", {"units": 1, "activation": "sigmoid"}).id,
    ]
    for a, b in itertools.pairwise(ids):
        graph.connect(a, b)
    return Project(graph, DatasetChoice("breast_cancer"), TrainingConfig(**training), name="tumour")


def app_run(project: Project, **changes: Any) -> tuple[TrainResult, Any]:
    choice = project.dataset
    dataset = load_dataset(
        choice.name, choice.params, choice.val_fraction, choice.test_fraction, choice.seed
    )
    config = replace(resolved_training(project.training, project.path), **changes)
    return Trainer(project.graph, dataset, config).run(), dataset


def assert_same_history(app: dict[str, list[float]], script: dict[str, list[float]]) -> None:
    assert set(script) == set(app) - {"samples_per_s"}
    for key, values in script.items():
        np.testing.assert_allclose(values, app[key], rtol=1e-5, err_msg=key)


def assert_same_weights(model: Any, path: Path) -> None:
    with np.load(path) as stored:
        got = [stored[f"arr_{i}"] for i in range(len(stored.files))]
    expected = model.get_weights()
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Three projects with different settings, each trained by the app and by its script."""
    folder = tmp_path_factory.mktemp("codegen_training")
    early = tumour_mlp(
        learning_rate=0.02,
        schedule="exponential",
        schedule_params={"decay_rate": 0.9},
        early_stopping=True,
        patience=2,
        epochs=40,
    )
    best = tumour_mlp(
        optimizer="sgd",
        learning_rate=0.3,
        momentum=0.9,
        schedule="cosine",
        schedule_params={"alpha": 0.2},
        checkpoint=True,
        class_weight="balanced",
        epochs=8,
        batch_size=64,
    )
    plateau = tumour_mlp(
        learning_rate=0.05,
        schedule="reduce_on_plateau",
        schedule_params={"factor": 0.5, "patience": 1},
        mixed_precision=True,
        device="cpu",
        tensorboard_dir=str(folder / "script_logs"),
        epochs=8,
    )
    projects = {"early": early, "best": best, "plateau": plateau}
    scripts = {}
    with pytest.MonkeyPatch.context() as patch:  # no step times measured before: estimated
        patch.setenv("DEEPCANVAS_HOME", str(folder / "home"))
        for name, project in projects.items():
            with_stored_weights(project, folder, name)
            scripts[name] = write_script(project, folder / f"{name}.py")
        runs = run_scripts(list(scripts.values()), folder)
        return {
            name: {
                "project": project,
                "script": scripts[name],
                "run": runs[str(scripts[name])],
                "app": app_run(
                    project,
                    tensorboard_dir=str(folder / "app_logs") if name == "plateau" else None,
                ),
            }
            for name, project in projects.items()
        }


def test_early_stopping_stops_at_the_app_epoch(trained: dict[str, Any]) -> None:
    case = trained["early"]
    (app, _dataset), run = case["app"], case["run"]
    config = case["project"].training
    assert app.status == "completed" and len(app.history["loss"]) < config.epochs  # it stopped
    assert_same_history(app.history, run["history"])  # learning rates and stopping epoch too
    # the app chose several batches a call (40 epochs), the script (auto) trains one a call:
    # the same numbers
    assert app.execution["steps_per_execution"] > 1 and run["execution"] == [1, False]
    assert not [w for w in run["warnings"] if "shuffle" in w]  # fit told its data is ordered
    assert run["callbacks"] == [settings(c) for c in extra_callbacks(config, True)]
    assert_same_weights(app.model, Path(str(case["script"]) + ".npz"))  # best epoch restored
    assert run["class_weight"] == {}


def test_best_epoch_weights_class_weights_and_cosine_schedule(trained: dict[str, Any]) -> None:
    case = trained["best"]
    (app, dataset), run = case["app"], case["run"]
    config = case["project"].training
    assert app.status == "completed"
    assert app.best_epoch is not None and app.best_epoch < config.epochs - 1  # not the last
    assert_same_history(app.history, run["history"])
    assert_same_weights(app.model, Path(str(case["script"]) + ".npz"))  # the best, restored
    weights = class_weights(config, dataset)
    assert weights is not None and max(weights.values()) > 1.1  # really imbalanced
    assert run["class_weight"] == {str(k): v for k, v in weights.items()}
    lr = run["history"]["learning_rate"]
    assert lr == pytest.approx([epoch_learning_rate(config, e) for e in range(len(lr))])


def test_plateau_schedule_mixed_precision_device_and_tensorboard(
    trained: dict[str, Any],
) -> None:
    case = trained["plateau"]
    (app, _dataset), run = case["app"], case["run"]
    config = case["project"].training
    assert app.status == "completed"
    assert_same_history(app.history, run["history"])
    assert min(run["history"]["learning_rate"]) < config.learning_rate  # the plateau was hit
    made = extra_callbacks(replace(config, tensorboard_dir=None), True)
    assert run["callbacks"][:-1] == [settings(c) for c in made]
    assert run["callbacks"][-1][0] == "TensorBoard"
    assert any(Path(config.tensorboard_dir or "").rglob("events.out.tfevents*"))
    assert (run["policy"], run["optimizer"]) == ("mixed_float16", "LossScaleOptimizer")
    assert (app.model.dtype_policy.name, type(app.model.optimizer).__name__) == (
        run["policy"],
        run["optimizer"],
    )
    text = case["script"].read_text()
    assert 'with keras.device("cpu:0"):' in text
    assert 'keras.mixed_precision.set_global_policy("mixed_float16")' in text


# ----------------------------------------------------------------- text of the script
@pytest.mark.parametrize(
    ("schedule", "params"),
    [
        ("step", {}),
        ("step", {"every_epochs": 3, "factor": 0.3}),
        ("exponential", {"decay_rate": 0.95}),
        ("cosine", {}),
        ("cosine", {"alpha": 0.25}),
    ],
)
def test_the_schedule_function_is_the_app_formula(schedule: str, params: dict[str, Any]) -> None:
    config = TrainingConfig(
        learning_rate=0.02, epochs=12, schedule=schedule, schedule_params=params
    )
    source = schedule_function(config)
    assert source is not None
    namespace: dict[str, Any] = {"math": math}
    exec(source, namespace)  # the generated function itself
    for epoch in range(20):
        assert namespace["learning_rate"](epoch) == epoch_learning_rate(config, epoch), epoch


def test_default_settings_write_no_training_extras() -> None:
    text = generate_script(moons_mlp())
    for extra in ("callbacks=", "class_weight", "mixed_precision", "keras.device", "import math"):
        assert extra not in text
    assert "validation_data=(data.x_val, data.y_val)," in text
    assert "history = fit_model(model, load_data())" in text


def test_without_validation_the_callbacks_watch_the_training_loss() -> None:
    project = moons_mlp()
    project.dataset = DatasetChoice("moons", val_fraction=0.0)
    project.training = replace(project.training, early_stopping=True, checkpoint=True)
    text = generate_script(project)
    assert "validation_data" not in text
    assert 'keras.callbacks.EarlyStopping(monitor="loss", patience=5' in text
    assert "patience=30" not in text  # early stopping already restores the best epoch


def test_a_streamed_table_is_fitted_through_the_loader_pipelines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = tmp_path / "t.csv"
    rng = np.random.default_rng(0)
    rows = ["a,b,label", *(f"{x:.3f},{y:.3f},{int(x > y)}" for x, y in rng.random((80, 2)))]
    table.write_text("\n".join(rows) + "\n")
    graph = LayerGraph()
    a = graph.add_node("Input", {"shape": [2]})
    b = graph.add_node("Dense", {"units": 1, "activation": "sigmoid"})
    graph.connect(a.id, b.id)
    choice = DatasetChoice("csv", {"path": str(table), "target": ["label"]})
    project = Project(graph, choice, TrainingConfig(epochs=1), name="streamed")
    monkeypatch.setattr(tabular, "STREAM_ABOVE_BYTES", 0)
    text = generate_script(project)
    assert "**data.fit_arguments(32),  # streamed from disk" in text
    assert "data.x_train" not in text
    namespace: dict[str, Any] = {}
    exec(compile(text, "streamed.py", "exec"), namespace)  # not its __main__
    model = namespace["compile_model"](namespace["build_model"]())
    data = namespace["load_data"]()
    assert data.stream is not None
    history = namespace["fit_model"](model, data)
    assert len(history.history["loss"]) == 1 and "val_loss" in history.history

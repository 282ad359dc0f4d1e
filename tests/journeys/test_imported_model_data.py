"""An imported image model meets the user's own image folder: the folder is read at the size and
colours the model's Input takes (its weights were trained for them), so it trains at once; it
was read at the folder's default 64x64 and refused ("Input takes (32, 32, 3), but dataset
'image_folder' gives (64, 64, 3)"), in the Data panel and in `main.py data` alike."""

from __future__ import annotations

import re
from pathlib import Path

from backend.document.project import load_project
from backend.keras_env import import_keras
from tests.journeys.conftest import Cli
from tests.script_runner import run_as_user

REPO_ROOT = Path(__file__).resolve().parents[2]
PHOTOS = REPO_ROOT / "resources" / "data" / "photos"  # 3 classes of 64x64 pictures


def small_image_model(path: Path, shape: tuple[int, int, int]) -> Path:
    keras = import_keras()
    inputs = keras.Input(shape)
    x = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x)).save(path)
    return path


def test_an_imported_model_reads_an_image_folder_at_its_input_size(
    cli: Cli, tmp_path: Path
) -> None:
    model = small_image_model(tmp_path / "grey.keras", (24, 20, 1))
    project = tmp_path / "grey.dcproj.json"
    imported = cli("import", model, "-o", project)
    assert imported.code == 0, imported.err
    assert "no dataset" in imported.out + imported.err

    chosen = cli("data", project, "image_folder", "--param", f"path={PHOTOS}")
    assert chosen.code == 0, chosen.err
    assert "training samples of shape (24, 20, 1)" in chosen.out
    assert "cannot train yet" not in chosen.err
    params = load_project(project).dataset.params
    assert (params["height"], params["width"], params["color_mode"]) == (24, 20, "grayscale")

    given = cli("data", project, "image_folder", "--param", f"path={PHOTOS}", "--param", "width=32")
    assert "shape (24, 32, 1)" in given.out and "cannot train yet" in given.err  # the user's wins

    assert cli("data", project, "image_folder", "--param", f"path={PHOTOS}").code == 0
    trained = cli("train", project, "--epochs", "1")
    assert trained.code == 0, trained.err
    evaluated = cli("evaluate", project)
    assert evaluated.code == 0 and "(completed, 1 epoch)" in evaluated.out  # not '1 epochs'


def test_importing_and_exporting_print_no_tensorflow_log(tmp_path: Path) -> None:
    """`main.py import` printed TensorFlow's C++ start-up lines (I0000 ..., 'E0000 ... failed
    call to cuInit'), which a new user reads as an error: its first Keras import skipped the
    quiet one; a TFLite export added 'INFO: Created TensorFlow Lite XNNPACK delegate for CPU.'.
    In a fresh process, as a user runs them (import, then export to TFLite)."""
    model = small_image_model(tmp_path / "m.keras", (8, 8, 3))
    project, out = tmp_path / "m.dcproj.json", tmp_path / "m.tflite"
    both = (
        "import sys; from backend.cli.main import main; "
        f"sys.exit(main(['import', {str(model)!r}, '-o', {str(project)!r}]) "
        f"or main(['export', {str(project)!r}, '-o', {str(out)!r}]))"
    )
    done = run_as_user(["-c", both])
    assert done.returncode == 0, done.stderr
    assert "wrote " in done.stdout and out.exists()
    noise = re.compile(r"^[EIW]\d{4} |absl::InitializeLog|^INFO: ", re.M)
    assert not noise.search(done.stderr), done.stderr

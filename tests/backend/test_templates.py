"""The template gallery is data: project files under resources/templates/, each one listed with
its metadata, valid, in the canonical form a diff reads, and trained one epoch without a single
Keras warning."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from backend.data import load_dataset
from backend.document.project import Project, load_project, save_project
from backend.evaluation.evaluate import evaluate
from backend.keras_bridge.compiler import validate
from backend.templates import gallery
from backend.templates.examples import DEFAULT_EXAMPLE, EXAMPLES, penguins_csv
from backend.training.trainer import Trainer

TEMPLATE_IDS = gallery.template_ids()


def test_the_gallery_lists_every_template_file_in_order() -> None:
    files = sorted(p.name for p in gallery.TEMPLATES_DIR.glob("*.dcproj.json"))
    infos = gallery.templates()
    assert sorted(f"{t.id}.dcproj.json" for t in infos) == files
    assert len(files) >= 12 and DEFAULT_EXAMPLE in TEMPLATE_IDS
    assert [t.order for t in infos] == sorted(t.order for t in infos)
    assert list(EXAMPLES) == TEMPLATE_IDS
    for info in infos:
        assert info.title and info.category and info.teaches, info.id
        assert "\n" not in info.description and len(info.description) < 160, info.id


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_a_template_is_in_canonical_form_and_valid(template_id: str) -> None:
    info = gallery.template_info(template_id)
    text = info.path.read_text(encoding="utf-8")
    assert text == gallery.canonical_text(info.path), (
        f"{info.path} is not in canonical form: python -m backend.templates.gallery --rewrite"
    )
    project = gallery.load_template(template_id)
    assert project.name == info.title and project.description == info.description
    assert not project.dirty and project.path is None and not project.runs
    assert validate(project.graph) == []  # no error and no warning either


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_a_template_trains_one_epoch_and_evaluates_without_a_keras_warning(
    template_id: str, tmp_path: Path
) -> None:
    project = save_and_reopen(gallery.load_template(template_id), tmp_path)
    data = project.load_data()
    project.training.epochs = 1
    with warnings.catch_warnings():
        warnings.filterwarnings("error", module=r"keras(\.|$)")
        warnings.filterwarnings("error", module=r"tensorflow(\.|$)")
        result = Trainer(project.graph, data, project.training).run()
        assert result.status == "completed", result.message
        report = evaluate(result.model, data)  # the next step a person takes
    assert len(result.history["loss"]) == 1
    assert report.size > 0 and report.heads and "loss" in report.metrics


def save_and_reopen(project: Project, folder: Path) -> Project:
    return load_project(save_project(project, folder / "saved.dcproj.json"))


def test_a_template_names_its_data_file_relative_to_itself(tmp_path: Path) -> None:
    raw = json.loads(gallery.template_info("penguins_csv").path.read_text(encoding="utf-8"))
    assert raw["dataset"]["params"]["path"] == "../data/synthetic_penguins.csv"
    project = penguins_csv()
    assert project.dataset is not None
    path = Path(project.dataset.params["path"])
    assert path.is_absolute() and path.is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    reopened = save_and_reopen(project, elsewhere)
    assert reopened.load_data().train_size > 0


def test_a_template_written_by_an_author_is_listed_and_opens(tmp_path: Path) -> None:
    project = gallery.load_template("moons_mlp")
    project.name, project.description = "My moons", "The moons, wider."
    meta = {"category": "Mine", "order": 5, "teaches": "Wider layers."}
    gallery.write_template(project, meta, tmp_path / "my_moons.dcproj.json")
    other = gallery.load_template("perceptron")
    gallery.write_template(other, {**meta, "order": 9}, tmp_path / "p.dcproj.json")

    listed = gallery.templates(tmp_path)

    assert [(t.id, t.title, t.category) for t in listed] == [
        ("my_moons", "My moons", "Mine"),
        ("p", other.name, "Mine"),
    ]
    for info in listed:  # what the tests ask of every template
        assert info.path.read_text(encoding="utf-8") == gallery.canonical_text(info.path)
    assert gallery.load_template("my_moons", tmp_path).graph.to_dict() == project.graph.to_dict()
    # A template is a project file: the app opens it as one.
    assert load_project(tmp_path / "my_moons.dcproj.json").name == "My moons"


def test_unknown_or_broken_templates_are_named(tmp_path: Path) -> None:
    with pytest.raises(gallery.TemplateError, match=r"unknown template 'nope'.*digits_cnn"):
        gallery.load_template("nope")
    (tmp_path / "bad.dcproj.json").write_text('{"name": "x"}', encoding="utf-8")
    with pytest.raises(gallery.TemplateError, match=r"bad.dcproj.json: no 'template' object"):
        gallery.templates(tmp_path)
    meta = {"category": "c", "order": "first", "teaches": "t"}
    with pytest.raises(gallery.TemplateError, match="'order' must be a whole number"):
        gallery.write_template(Project(), meta, tmp_path / "x.dcproj.json")


def test_autoencoder_learns_to_give_back_its_input() -> None:
    project = EXAMPLES["autoencoder"]()
    data = load_dataset("digits", {"view": "autoencoder"})
    assert data.y_train.shape == data.x_train.shape
    project.training.epochs = 5
    result = Trainer(project.graph, data, project.training).run()
    assert result.history["loss"][-1] < result.history["loss"][0]

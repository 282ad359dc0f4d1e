"""The template gallery: project files in the app's own format under `resources/templates/`.

A template is a project file (`NAME.dcproj.json`, what File > Save writes and File > Open
reads) with one more key, `"template"`, that the Start gallery reads:

    "template": {"category": "Images", "order": 40, "teaches": "Convolutions slide ..."}

Its title is the project's `name`, its one-line description the project's `description`, and
its id the file name without `.dcproj.json`. A template may also offer a pretrained backbone in
place of some of its layers (`"pretrained"` in that block, read by
`backend.exchange.pretrained_template`): it opens with the backbone when the backbone's ImageNet
weights are on this computer, as its file is otherwise, and `open_template` says which.
Dataset file paths in a template are relative to the template's own folder
(`../data/synthetic_penguins.csv`) and become absolute when the template is opened, so the new
project finds its data wherever it is saved. Nothing here runs
code from a file: templates are JSON, read by `backend.document.project.project_from_dict`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.document.project import FILE_SUFFIX, Project, ProjectError, project_from_dict
from backend.exchange.pretrained import PretrainedError
from backend.exchange.pretrained_template import BackboneOffer, Choice, choose, with_backbone

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "resources" / "templates"
DEFAULT_TEMPLATE = "digits_cnn"
TEMPLATE_KEY = "template"
META_FIELDS = ("category", "order", "teaches")
OFFER_FIELD = "pretrained"


class TemplateError(ValueError):
    """A template that is unknown or cannot be read, naming the file."""


@dataclass(frozen=True)
class TemplateInfo:
    """What the Start gallery shows of a template, read without building anything."""

    id: str
    title: str
    description: str
    category: str
    order: int
    teaches: str
    path: Path
    pretrained: BackboneOffer | None = None
    """The backbone the template opens with when its weights are here (None: no offer)."""


@dataclass(frozen=True)
class OpenedTemplate:
    """A template opened as a new project, and which model it opened with."""

    project: Project
    choice: Choice | None = None
    """For a template that offers a backbone: the backbone or what opened instead, and why."""

    @property
    def note(self) -> str:
        """ "MobileNetV3Small pretrained on ImageNet (...)", or what opened instead and why (it
        follows "opened with"); "" for a template without an offer."""
        return self.choice.note if self.choice is not None else ""

    @property
    def pretrained(self) -> bool:
        return self.choice is not None and self.choice.pretrained


def templates(folder: Path = TEMPLATES_DIR) -> list[TemplateInfo]:
    """Every template of `folder`, in gallery order (`order`, then title)."""
    found = [_read_info(path) for path in sorted(folder.glob(f"*{FILE_SUFFIX}"))]
    return sorted(found, key=lambda t: (t.order, t.title))


def template_ids(folder: Path = TEMPLATES_DIR) -> list[str]:
    return [t.id for t in templates(folder)]


def template_info(template_id: str, folder: Path = TEMPLATES_DIR) -> TemplateInfo:
    path = folder / f"{template_id}{FILE_SUFFIX}"
    if not path.is_file():
        known = ", ".join(template_ids(folder))
        raise TemplateError(f"unknown template {template_id!r}; the templates are: {known}")
    return _read_info(path)


def load_template(template_id: str, folder: Path = TEMPLATES_DIR) -> Project:
    """A new, unsaved project from the template (see `open_template`)."""
    return open_template(template_id, folder).project


def open_template(template_id: str, folder: Path = TEMPLATES_DIR) -> OpenedTemplate:
    """A new, unsaved project from the template: its file's graph, data and settings, with
    dataset paths made absolute, and the backbone it offers when the backbone's weights are on
    this computer (building it reads them with Keras). Raises TemplateError naming the file."""
    info = template_info(template_id, folder)
    project = _file_project(info)
    if info.pretrained is None:
        return OpenedTemplate(project)
    try:
        model = with_backbone(project, info.pretrained)
    except PretrainedError as exc:
        raise TemplateError(f"{info.path}: {exc}") from exc
    return OpenedTemplate(model.project, model.choice)


def opens_with(info: TemplateInfo) -> Choice | None:
    """Which model the template opens with here, for the gallery before it is opened (None
    for a template without an offer); reads the Keras cache's file list, builds nothing."""
    if info.pretrained is None:
        return None
    try:
        return choose(_file_project(info), info.pretrained)
    except PretrainedError as exc:
        raise TemplateError(f"{info.path}: {exc}") from exc


def _file_project(info: TemplateInfo) -> Project:
    data = _read_json(info.path)
    try:
        project = project_from_dict(data, str(info.path))
    except ProjectError as exc:
        raise TemplateError(str(exc)) from exc
    if project.dataset is not None:
        project.dataset = project.dataset.resolved(info.path.parent)
    project.dirty = False
    return project


def template_text(project: Project, meta: dict[str, Any]) -> str:
    """The file text of a template: the project as saved, `"template"` after its description."""
    document: dict[str, Any] = {}
    for key, value in project.to_dict().items():
        document[key] = value
        if key == "description":
            document[TEMPLATE_KEY] = {k: meta[k] for k in (*META_FIELDS, OFFER_FIELD) if k in meta}
    return json.dumps(document, indent=2) + "\n"


def write_template(project: Project, meta: dict[str, Any], path: str | Path) -> Path:
    """Write `project` as a template file (for template authors); `meta` holds META_FIELDS."""
    _check_meta(meta, str(path))
    path = Path(path)
    path.write_text(template_text(project, meta), encoding="utf-8")
    return path


def canonical_text(path: Path) -> str:
    """The file's JSON as the app writes it (two-space indents, its own key order), so a file
    equal to it diffs cleanly. Settings added to the app later are not required: a template,
    like any project file, gets their defaults when it opens."""
    return json.dumps(_read_json(path), indent=2) + "\n"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TemplateError(f"{path}: not a readable template ({exc})") from exc


def _read_info(path: Path) -> TemplateInfo:
    data = _read_json(path)
    if not isinstance(data, dict):
        raise TemplateError(f"{path}: a template must be a JSON object")
    meta = data.get(TEMPLATE_KEY)
    _check_meta(meta, str(path))
    assert isinstance(meta, dict)
    return TemplateInfo(
        id=path.name.removesuffix(FILE_SUFFIX),
        title=str(data.get("name", "")),
        description=str(data.get("description", "")),
        category=meta["category"],
        order=meta["order"],
        teaches=meta["teaches"],
        path=path,
        pretrained=_offer(meta, data, str(path)),
    )


def _offer(meta: dict[str, Any], data: dict[str, Any], source: str) -> BackboneOffer | None:
    """The template's offer of a backbone, checked against its layers' names."""
    if OFFER_FIELD not in meta:
        return None
    try:
        offer = BackboneOffer.from_dict(meta[OFFER_FIELD])
    except (ValueError, KeyError) as exc:
        raise TemplateError(f"{source}: {str(exc).strip(chr(34))}") from exc
    graph = data.get("graph")
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    layers = (
        {n.get("name") for n in nodes if isinstance(n, dict)} if isinstance(nodes, list) else set()
    )
    missing = [name for name in offer.replaces if name not in layers]
    if missing:
        raise TemplateError(f"{source}: the template has no layer {missing[0]!r} to replace")
    return offer


def _check_meta(meta: Any, source: str) -> None:
    if not isinstance(meta, dict):
        raise TemplateError(f"{source}: no {TEMPLATE_KEY!r} object (category, order, teaches)")
    missing = [k for k in META_FIELDS if k not in meta]
    if missing:
        raise TemplateError(f"{source}: the template lacks {', '.join(missing)}")
    order = meta["order"]
    if isinstance(order, bool) or not isinstance(order, int):
        raise TemplateError(f"{source}: 'order' must be a whole number, got {order!r}")
    for key in ("category", "teaches"):
        if not isinstance(meta[key], str) or not meta[key].strip():
            raise TemplateError(f"{source}: {key!r} must be a non-empty string")


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m backend.templates.gallery [--rewrite]`: list the templates, or rewrite each
    file in the canonical form the tests expect (after editing one by hand)."""
    args = list(sys.argv[1:] if argv is None else argv)
    for info in templates():
        if "--rewrite" in args:
            info.path.write_text(canonical_text(info.path), encoding="utf-8")
        print(f"{info.id:<24} {info.category:<14} {info.title}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

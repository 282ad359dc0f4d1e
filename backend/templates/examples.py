"""The built-in examples by name: every template of the gallery (`backend.templates.gallery`).

`EXAMPLES[name]()` opens a template as a new project (what `main.py --example NAME` and the
Start tab do); `digits_cnn`, `moons_mlp` and `penguins_csv` are the three the tests use most.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from backend.document.project import Project
from backend.templates.gallery import DEFAULT_TEMPLATE, load_template, template_ids

DEFAULT_EXAMPLE = DEFAULT_TEMPLATE


class _Examples(Mapping[str, Callable[[], Project]]):
    """Template id -> a function that opens it; read from the folder on each lookup, so a
    template file added while the app runs is listed too."""

    def __getitem__(self, name: str) -> Callable[[], Project]:
        if name not in template_ids():
            raise KeyError(name)
        return lambda: load_template(name)

    def __iter__(self) -> Iterator[str]:
        return iter(template_ids())

    def __len__(self) -> int:
        return len(template_ids())


EXAMPLES: Mapping[str, Callable[[], Project]] = _Examples()


def digits_cnn() -> Project:
    return load_template("digits_cnn")


def moons_mlp() -> Project:
    return load_template("moons_mlp")


def penguins_csv() -> Project:
    return load_template("penguins_csv")

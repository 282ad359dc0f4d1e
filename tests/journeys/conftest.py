"""Journey fixtures: a private Keras home (tests/conftest.py gives each test its own DeepCanvas
home), the CLI run in-process as `main.py COMMAND ...`."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from backend.cli.main import main as cli_main


@pytest.fixture(scope="session", autouse=True)
def _keras_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keras writes `keras.json` under KERAS_HOME on first import: keep it out of $HOME."""
    previous = os.environ.get("KERAS_HOME")
    os.environ["KERAS_HOME"] = str(tmp_path_factory.mktemp("keras_home"))
    yield
    if previous is None:
        os.environ.pop("KERAS_HOME", None)
    else:
        os.environ["KERAS_HOME"] = previous


@dataclass
class Done:
    """What a command printed and returned."""

    code: int
    out: str
    err: str

    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.out.splitlines()[-1]))


Cli = Callable[..., Done]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """`cli("train", path, "--epochs", "2")`: main.py's headless command, in this process."""

    def run(*argv: object) -> Done:
        code = cli_main([str(a) for a in argv])
        captured = capsys.readouterr()
        return Done(code, captured.out, captured.err)

    return run

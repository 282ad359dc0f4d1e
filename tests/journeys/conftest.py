"""Journey fixtures: a private Keras home (tests/conftest.py gives each test its own DeepCanvas
home), the CLI run in-process as `main.py COMMAND ...`."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from backend.cli.main import main as cli_main


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

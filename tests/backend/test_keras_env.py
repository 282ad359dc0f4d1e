"""TensorFlow's native start-up log stays out of the terminal unless asked for (--verbose)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from backend import keras_env
from tests.script_runner import run_as_user

REPO_ROOT = Path(__file__).resolve().parents[2]
NATIVE_LOG_LINE = re.compile(r"^[EIW]\d{4} |absl::InitializeLog", re.M)


def test_the_native_noise_is_dropped_and_anything_else_passes(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(keras_env.VERBOSE_ENV, "0")  # restored after the test
    noise = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1796462652.663712   10803 port.cc:153] oneDNN custom operations are on.\n"
        "E0000 00:00:1796462657.711455   10803 cuda_platform.cc:52] failed call to cuInit: x\n"
    )
    with keras_env._native_stderr_filtered():
        os.write(2, noise.encode())
        os.write(2, b"E0000 00:00:1.0 1 loader.cc:12] a real native error\n")
        print("a Python warning", file=sys.stderr)
    err = capfd.readouterr().err
    assert "cuInit" not in err and "oneDNN" not in err and "absl" not in err
    assert "a real native error" in err and "a Python warning" in err


def test_verbose_leaves_the_native_log_alone(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(keras_env.VERBOSE_ENV, "0")  # restored after the test
    assert keras_env.take_verbose_flag(["summary", "--verbose", "p"]) == ["summary", "p"]
    assert keras_env.is_verbose()
    with keras_env._native_stderr_filtered():
        os.write(2, b"I0000 00:00:1.0 1 port.cc:153] oneDNN custom operations are on.\n")
    assert "oneDNN" in capfd.readouterr().err


def test_a_command_prints_no_tensorflow_log_line() -> None:
    template = REPO_ROOT / "resources" / "templates" / "moons_mlp.dcproj.json"
    done = run_as_user(["main.py", "summary", str(template)])
    assert done.returncode == 0, done.stderr
    assert "total params" in done.stdout  # Keras was loaded and used
    assert not NATIVE_LOG_LINE.search(done.stderr), done.stderr

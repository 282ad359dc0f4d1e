"""Run exported scripts in a fresh Python, as a user would, and read back their models' configs.

One subprocess builds every script's model (TensorFlow is imported once), so a whole set of
scripts costs a few seconds. Each script's `build_model()` is called without running its
`__main__` block; the configs come back as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

_RUNNER = """
import json, runpy, sys
sys.path.insert(0, {tests!r})
from keras_models import architecture
out = {{}}
for path in sys.argv[2:]:
    model = runpy.run_path(path)["build_model"]()
    out[path] = {{"architecture": architecture(model), "params": int(model.count_params())}}
with open(sys.argv[1], "w") as handle:
    json.dump(out, handle)
"""


def build_in_subprocess(scripts: list[Path], workdir: Path) -> dict[str, dict[str, Any]]:
    """{script path: {"architecture": ..., "params": ...}} from a fresh interpreter."""
    return run_in_subprocess(_RUNNER.format(tests=str(REPO / "tests")), scripts, workdir)


def run_in_subprocess(
    code: str, scripts: list[Path], workdir: Path, timeout: int = 300
) -> dict[str, dict[str, Any]]:
    """Run `code` in a fresh interpreter with a result path and the scripts as arguments;
    the JSON it wrote there."""
    result = workdir / "result.json"
    run = subprocess.run(
        [sys.executable, "-c", code, str(result), *map(str, scripts)],
        cwd=workdir,
        env=script_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    data: dict[str, dict[str, Any]] = json.loads(result.read_text())
    return data


def script_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).strip(os.pathsep)
    env.setdefault("KERAS_BACKEND", "tensorflow")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def run_as_user(argv: list[str], timeout: int = 180) -> subprocess.CompletedProcess[str]:
    """`python ARGV...` from the checkout in a fresh interpreter, with the environment a
    user's shell would have: none of the TensorFlow log level or verbose flag the tests set,
    so what TensorFlow prints on its own shows."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_CPP", "DEEPCANVAS_V"))}
    return subprocess.run(
        [sys.executable, *argv], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )

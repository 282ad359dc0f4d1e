"""The real-window check: the app on a real X server (Xvfb), driven by a real mouse (xdotool).

    python -m tests.window.check_real_window [--out DIR]      (`make window-check`)

It opens a project holding an Input and an output layer, drags a `Dense` from the palette
onto the canvas, wires Input -> Dense -> output by dragging between ports (each edge must show
its tensor's shape), trains one epoch (F5), evaluates (F6: the Evaluation tab must name the
trained run before and after), saves (Ctrl+S), and screenshots the X screen at each step.
Then it reads the saved project back: the Dense must be there, wired in, and the run recorded
as completed. Anything else fails loudly (exit 1), naming the step, with the app's last state
and its log.

Needs `Xvfb` and `xdotool` (Debian: `apt-get install xvfb xdotool`; `.ci/run` installs them).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backend.document.graph import LayerGraph
from backend.document.project import load_project, save_project
from backend.templates.examples import EXAMPLES

SCREEN = "1600x1000x24"
STEP_TIMEOUT = 60.0


class CheckFailed(RuntimeError):
    pass


def _free_display() -> int:
    for n in range(50, 100):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise CheckFailed("no free X display number between :50 and :99")


def _project(folder: Path) -> Path:
    """The moons example with its hidden layers taken out: an Input and the output layer."""
    project = EXAMPLES["moons_mlp"]()
    graph = project.graph
    kept = [n for n in graph.topological_order() if n in (graph.input_nodes()[0].id,)]
    output = graph.outputs[0]
    data = graph.to_dict()
    data["nodes"] = [n for n in data["nodes"] if n["id"] in (kept[0], output)]
    data["edges"] = []
    data["outputs"] = []
    for node in data["nodes"]:
        node["position"] = [0.0, 0.0] if node["id"] == kept[0] else [0.0, 420.0]
        node["name"] = "features" if node["id"] == kept[0] else "prob"
    project.graph.load_dict(data)
    project.training.epochs = 1
    project.name = "window check"
    path = folder / "window-check.dcproj.json"
    save_project(project, path)
    return path


class Session:
    """The app under Xvfb and the mouse and keyboard that drive it."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.probe = out / "probe"
        shutil.rmtree(self.probe, ignore_errors=True)  # a state.json of an earlier run read as
        self.probe.mkdir(parents=True)  # this one's had the mouse drag before the window was up
        for old in out.glob("*.png"):  # an earlier run's screenshots (its failure.png) are
            old.unlink()  # not this run's
        self.display = f":{_free_display()}"
        self.env = {
            **os.environ,
            "DISPLAY": self.display,
            "QT_QPA_PLATFORM": "xcb",
            "DEEPCANVAS_HOME": str(out / "home"),
            "XDG_CONFIG_HOME": str(out / "config"),
        }
        self.xvfb: subprocess.Popen[bytes] | None = None
        self.app: subprocess.Popen[bytes] | None = None
        self.log = out / "app.log"

    def start(self, project: Path) -> None:
        self.xvfb = subprocess.Popen(
            ["Xvfb", self.display, "-screen", "0", SCREEN, "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        socket = Path(f"/tmp/.X11-unix/X{self.display[1:]}")
        self.wait("Xvfb to start", lambda: socket.exists() or None, 20)
        with self.log.open("wb") as log:
            self.app = subprocess.Popen(
                [sys.executable, "-m", "tests.window.app_probe", str(project), str(self.probe)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        for proc in (self.app, self.xvfb):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()

    def state(self) -> dict[str, Any]:
        try:
            return dict(json.loads((self.probe / "state.json").read_text()))
        except (OSError, ValueError):
            return {}

    def wait(self, what: str, found: Callable[[], Any], timeout: float = STEP_TIMEOUT) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.app is not None and self.app.poll() is not None:
                raise CheckFailed(f"the app exited (code {self.app.returncode}) waiting for {what}")
            value = found()
            if value:
                return value
            time.sleep(0.2)
        raise CheckFailed(f"timed out after {timeout:.0f} s waiting for {what}")

    def xdo(self, *args: object) -> None:
        command = ["xdotool", *map(str, args)]
        for _attempt in range(3):
            done = subprocess.run(command, env=self.env, capture_output=True, text=True)
            if done.returncode == 0:
                return
            time.sleep(0.2)
        raise CheckFailed(f"{' '.join(command)} failed: {done.stderr.strip() or done.returncode}")

    def drag(self, a: list[int], b: list[int], steps: int = 12) -> None:
        """Press at a, move as a hand would (a few pixels first, so a drag starts, then on in
        small steps), rest, release at b. The pauses let a busy app keep up."""
        self.xdo("mousemove", a[0], a[1])
        time.sleep(0.3)
        self.xdo("mousedown", 1)
        for dx in (4, 8, 12, 16):
            self.xdo("mousemove", a[0] + dx, a[1])
            time.sleep(0.05)
        time.sleep(0.6)
        for i in range(1, steps + 1):
            x = a[0] + 16 + (b[0] - a[0] - 16) * i / steps
            y = a[1] + (b[1] - a[1]) * i / steps
            self.xdo("mousemove", int(x), int(y))
            time.sleep(0.05)
        time.sleep(0.5)
        self.xdo("mousemove", b[0] + 1, b[1])
        self.xdo("mousemove", b[0], b[1])
        time.sleep(0.4)
        self.xdo("mouseup", 1)
        time.sleep(0.5)

    def key(self, *keys: str) -> None:
        self.xdo("key", *keys)

    def shot(self, name: str) -> Path:
        (self.probe / f"shot-{name}").touch()
        png = self.probe / f"{name}.png"
        self.wait(f"the screenshot {name}", lambda: png.exists() or None, 10)
        target = self.out / f"{name}.png"
        shutil.move(png, target)
        return target


def run(out: Path) -> Path:
    """Every step of the check; returns the saved project."""
    project = _project(out)
    session = Session(out)
    try:
        session.start(project)
        state = session.wait(
            "the window and TensorFlow", lambda: (s := session.state()).get("ready") and s
        )
        if "Dense" not in state["palette"]:
            raise CheckFailed("the palette does not show 'Dense'")
        before = set(state["nodes"])
        x, y, w, h = state["canvas"]
        features = state["nodes"]["features"]["out"][0]
        drop = [
            min(x + w - 80, features[0] + 320),
            (features[1] + state["nodes"]["prob"]["in"][0][1]) // 2,
        ]
        session.drag(state["palette"]["Dense"], drop)
        state = session.wait(
            "the dropped Dense on the canvas",
            lambda: (s := session.state()) and set(s["nodes"]) - before and s,
        )
        dense = next(iter(set(state["nodes"]) - before))
        if state["nodes"][dense]["type"] != "Dense":
            raise CheckFailed(f"the drop added a {state['nodes'][dense]['type']}, not a Dense")
        session.shot("1-dropped")
        session.drag(state["nodes"]["features"]["out"][0], state["nodes"][dense]["in"][0])
        session.wait(
            "the edge features -> dense", lambda: ["features", dense] in session.state()["edges"]
        )
        state = session.state()
        session.drag(state["nodes"][dense]["out"][0], state["nodes"]["prob"]["in"][0])
        session.wait("the edge dense -> prob", lambda: [dense, "prob"] in session.state()["edges"])
        labels = session.wait(
            "the shapes on the new edges",
            lambda: (s := session.state()["edge_labels"]).get(f"{dense}->prob") and s,
        )
        if labels.get(f"features->{dense}") != "2":
            raise CheckFailed(f"the edge features -> {dense} reads {labels}, not the shape 2")
        session.shot("2-wired")
        session.xdo("mousemove", x + 20, y + h - 20)
        session.xdo("click", 1)
        session.key("F5")
        runs = session.wait(
            "one epoch of training", lambda: session.state().get("runs"), timeout=120
        )
        if runs[-1][0] != "completed":
            raise CheckFailed(f"training ended {runs[-1][0]}: {runs[-1][1]}")
        session.shot("3-trained")
        hint = session.wait(
            "Evaluate to name the trained run",
            lambda: (
                "Trained weights to evaluate: run" in (t := session.state()["evaluation"]) and t
            ),
        )
        session.key("F6")
        session.wait(
            "the evaluation", lambda: "Evaluated on" in session.state()["evaluation"], timeout=60
        )
        if "Weights: run" not in session.state()["evaluation"]:
            raise CheckFailed(f"evaluated other weights than the run's; before it said: {hint}")
        session.shot("4-evaluated")
        session.key("ctrl+s")
        session.wait("the project saved", lambda: not session.state().get("dirty", True))
        return project
    except CheckFailed as exc:
        try:
            where = f"screen at failure: {session.shot('failure')}"
        except CheckFailed:
            where = "(no screenshot)"
        state = {k: v for k, v in session.state().items() if k != "palette"}
        raise CheckFailed(
            f"{exc}\n{where}\nlast state: {json.dumps(state)[:2000]}\n"
            f"app log (tail):\n{_tail(session.log)}"
        ) from None
    finally:
        session.stop()


def verify(path: Path) -> str:
    """What the saved project must hold: the Dense wired between features and prob, the run."""
    graph: LayerGraph = load_project(path).graph
    names = {nid: n.name for nid, n in graph.nodes.items()}
    dense = [n for n in graph.nodes.values() if n.layer_type == "Dense" and n.name != "prob"]
    if len(dense) != 1:
        raise CheckFailed(f"the saved project has {len(dense)} new Dense layers, not 1")
    wired = {(names[e.src], names[e.dst]) for e in graph.edges}
    want = {("features", dense[0].name), (dense[0].name, "prob")}
    if not want <= wired:
        raise CheckFailed(f"the saved edges are {sorted(wired)}, missing {sorted(want - wired)}")
    runs = load_project(path).runs
    if not runs or runs[-1].status != "completed":
        raise CheckFailed(f"the saved project's runs: {[r.status for r in runs]}")
    return dense[0].name


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="where screenshots and the project go")
    args = parser.parse_args(argv)
    for tool in ("Xvfb", "xdotool"):
        if shutil.which(tool) is None:
            print(f"real-window check FAILED: {tool} is missing (apt-get install xvfb xdotool)")
            return 1
    out = args.out or Path(tempfile.mkdtemp(prefix="deepcanvas-window-"))
    out.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    try:
        name = verify(run(out))
    except CheckFailed as exc:
        print(f"real-window check FAILED: {exc}")
        return 1
    seconds = time.monotonic() - start
    print(f"real-window check passed in {seconds:.0f} s: dropped '{name}', wired, trained one")
    print(f"epoch, evaluated, saved; screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

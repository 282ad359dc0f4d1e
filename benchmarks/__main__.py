"""`make bench`: run every benchmark, print its tables, and write them into the README.

Each benchmark runs in its own process (no state, or peak memory, carried over). What it
prints between `report.publish`'s markers (or, for a benchmark that does not use them, all it
prints) becomes its generated section of `benchmarks/README.md`, stamped with the date, the
machine, the load and how long it took; a benchmark that fails keeps its previous section.
`python -m benchmarks NAME...` runs only those (e.g. `bench_training bench_import`).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from types import ModuleType

from benchmarks import (
    bench_canvas,
    bench_data,
    bench_graph,
    bench_import,
    bench_layout,
    bench_startup,
    bench_training,
    bench_ui,
    report,
)

MODULES: tuple[ModuleType, ...] = (
    bench_training,
    bench_startup,
    bench_graph,
    bench_canvas,
    bench_import,
    bench_layout,
    bench_data,
    bench_ui,
)


def run(module: ModuleType) -> str | None:
    """Run one benchmark, echoing what it prints; its section text, or None if it failed."""
    name = module.__name__.split(".")[-1]
    measurement = report.Measurement()
    process = subprocess.Popen(
        [sys.executable, "-m", module.__name__],
        stdout=subprocess.PIPE,
        text=True,
        env=report.child_environment(),
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    if process.wait():
        return None
    output = "".join(lines)
    published = re.search(
        rf"<!-- bench:{name} -->\n(.*?)\n<!-- /bench:{name} -->", output, flags=re.DOTALL
    )
    if published:
        return published.group(1)
    return f"{measurement.stamp()}\n\n{output.strip()}"


def main(names: list[str]) -> int:
    chosen = [m for m in MODULES if not names or m.__name__.split(".")[-1] in names]
    failed = []
    for module in chosen:
        name = module.__name__.split(".")[-1]
        print(f"\n## {name}", flush=True)
        start = time.perf_counter()
        text = run(module)
        if text is None:
            failed.append(name)
        else:
            report.write_section(name, text)
        print(f"({name}: {time.perf_counter() - start:.0f} s)", flush=True)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

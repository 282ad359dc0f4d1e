"""`make bench`: run every benchmark and print its ratios against the plain baseline."""

from __future__ import annotations

import subprocess
import sys
import time

from benchmarks import (
    bench_canvas,
    bench_data,
    bench_graph,
    bench_import,
    bench_layout,
    bench_startup,
    bench_training,
    bench_ui,
)


def main() -> int:
    modules = (
        bench_training,
        bench_startup,
        bench_graph,
        bench_canvas,
        bench_import,
        bench_layout,
        bench_data,
        bench_ui,
    )
    failed = []
    for module in modules:  # each in a fresh process: no state (or peak memory) carried over
        print(f"\n## {module.__name__}", flush=True)
        start = time.perf_counter()
        if subprocess.run([sys.executable, "-m", module.__name__], check=False).returncode:
            failed.append(module.__name__)
        print(f"({module.__name__}: {time.perf_counter() - start:.0f} s)", flush=True)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

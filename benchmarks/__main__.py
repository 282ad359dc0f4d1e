"""`make bench`: run every benchmark and print its ratios against the plain baseline."""

from __future__ import annotations

import sys

from benchmarks import (
    bench_canvas,
    bench_data,
    bench_graph,
    bench_import,
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
        bench_data,
        bench_ui,
    )
    for module in modules:
        print(f"\n## {module.__name__}", flush=True)
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make bench`: run every benchmark and print its ratios against the plain baseline."""

from __future__ import annotations

import sys

from benchmarks import bench_canvas, bench_graph, bench_import, bench_startup, bench_training


def main() -> int:
    for module in (bench_training, bench_startup, bench_graph, bench_canvas, bench_import):
        print(f"\n## {module.__name__}", flush=True)
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())

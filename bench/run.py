"""`nox -s bench`: the four figures of issue 7, as a table of medians and ratios.

    python bench/run.py [--runs N] [--only 1,2,3,4,5] [--wheels 60] [--latency 0.15]
                        [--big-mb 500] [--json FILE]

1. `nox -s release` against two local indexes vs the same work by hand (interleaved runs).
2. 60 wheels through a proxy adding 150 ms per upload: our concurrent upload vs `twine upload`.
3. The pre-upload read + guard decision of a project with 5,000 files.
4. Peak RSS of uploading a 500 MB file vs the same command with nothing to upload.
5. A compiled project's matrix: gather 60 wheels from 12 runners' folders, then upload them
   (150 ms per upload request), vs `twine upload` of the same files.

Everything runs on 127.0.0.1 (local pypiservers); nothing reaches a real index.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Row, print_table


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each side (default 5)")
    parser.add_argument("--only", default="1,2,3,4,5", help="which benchmarks, e.g. 2,3")
    parser.add_argument("--wheels", type=int, default=60)
    parser.add_argument("--latency", type=float, default=0.15, help="seconds per upload POST")
    parser.add_argument("--big-mb", type=int, default=500)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 50:
        parser.error("--runs must be 1..50")
    only = {int(x) for x in args.only.split(",") if x.strip()}
    rows: list[Row] = []
    started = time.perf_counter()
    if 1 in only:
        import bench_release

        rows += bench_release.run(args.runs, log)
    if 2 in only:
        import bench_upload

        rows += bench_upload.run(args.runs, args.wheels, args.latency, log)
    if 3 in only:
        import bench_read

        rows += bench_read.run(args.runs, log)
    if 4 in only:
        import bench_memory

        rows += bench_memory.run(max(1, min(args.runs, 3)), args.big_mb, log)
    if 5 in only:
        import bench_gather

        rows += bench_gather.run(args.runs, args.latency, log)
    print()
    print(
        f"nox-release benchmarks on {platform.node() or 'this machine'}: "
        f"Python {platform.python_version()}, {platform.system()}, "
        f"{_cpus()} CPU(s); medians of interleaved runs ({time.perf_counter() - started:.0f}s)"
    )
    print()
    print_table(rows)
    if args.json:
        args.json.write_text(
            json.dumps([dataclasses.asdict(r) | {"ratio": r.ratio} for r in rows], indent=2)
        )
    return 0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    raise SystemExit(main())

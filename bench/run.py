"""`nox -s bench`: release, build, rehearse and upload figures, as a table of medians and ratios.

    python bench/run.py [--runs N] [--only 1,2,3,4,5,6,7,8,9] [--before REF] [--cold-runs N]
                        [--wheels 60] [--latency 0.15] [--big-mb 500] [--per-mib 0.5]
                        [--json FILE]

1. `nox -s release` against two local indexes vs the same work by hand (interleaved runs).
2. 60 wheels through a proxy adding 150 ms per upload: our concurrent upload vs `twine upload`.
3. The pre-upload read + guard decision of a project with 5,000 files.
4. Peak RSS of uploading a 500 MB file vs the same command with nothing to upload.
5. A compiled project's matrix: gather 60 wheels from 12 runners' folders, then upload them
   (150 ms per upload request), vs `twine upload` of the same files.
6. `nox -s build` vs `python -m build` of the same project.
7. Warm `nox -s rehearse` of nox-release itself; 8. cold (fresh clone, empty caches).
9. (when asked for) 60 wheels of mixed sizes, 150 ms + 0.5 s per MiB per upload: the order of
   the uploads, vs `twine upload`.

--before REF adds, to 1, 2, 5, 6, 7, 8 and 9, a side running nox-release as it was at REF (a
fresh clone), interleaved with the others: before and after in the same run. Child processes
run without uv on PATH (nox-release brings its own, pinned); the machine's load average is
sampled throughout and shown per row. Everything runs on 127.0.0.1 (local pypiservers);
nothing reaches a real index (the rehearsal's dependencies come from the pip configuration).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import LoadMonitor, Row, checkout, print_table


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each side (default 5)")
    parser.add_argument("--only", default="1,2,3,4,5,6,7", help="which benchmarks, e.g. 2,3")
    parser.add_argument("--before", metavar="REF", help="also time nox-release at this commit")
    parser.add_argument("--cold-runs", type=int, default=1, help="runs of 8 (default 1)")
    parser.add_argument("--wheels", type=int, default=60)
    parser.add_argument("--latency", type=float, default=0.15, help="seconds per upload POST")
    parser.add_argument("--big-mb", type=int, default=500)
    parser.add_argument(
        "--per-mib", type=float, default=0.5, help="9: seconds per MiB of an upload's body"
    )
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 50:
        parser.error("--runs must be 1..50")
    only = {int(x) for x in args.only.split(",") if x.strip()}
    rows: list[Row] = []
    started = time.perf_counter()
    load = LoadMonitor()
    with tempfile.TemporaryDirectory(prefix="bench-before-") as tmp:
        before = checkout(args.before, Path(tmp) / "before") if args.before else None
        for number in sorted(only):
            begun = time.monotonic()
            made = _one(number, only, args, before)
            for row in made:
                row.load = load.between(begun, time.monotonic())
            rows += made
    load.stop()
    print()
    print(
        f"nox-release benchmarks on {platform.node() or 'this machine'}: "
        f"Python {platform.python_version()}, {platform.system()}, "
        f"{_cpus()} CPU(s); medians of interleaved runs ({time.perf_counter() - started:.0f}s)"
        + (f"; before = {args.before}" if args.before else "")
        + "; load = 1-minute load average during the row"
    )
    print()
    print_table(rows)
    if args.json:
        args.json.write_text(
            json.dumps(
                [dataclasses.asdict(r) | {"ratio": r.ratio, "met": r.met} for r in rows], indent=2
            )
        )
    return 0


def _one(number: int, only: set[int], args: argparse.Namespace, before: Path | None) -> list[Row]:
    if number == 1:
        import bench_release

        return bench_release.run(args.runs, log, before)
    if number == 2:
        import bench_upload

        return bench_upload.run(args.runs, args.wheels, args.latency, log, before)
    if number == 3:
        import bench_read

        return bench_read.run(args.runs, log)
    if number == 4:
        import bench_memory

        return bench_memory.run(max(1, min(args.runs, 3)), args.big_mb, log)
    if number == 5:
        import bench_gather

        return bench_gather.run(args.runs, args.latency, log, before)
    if number == 6:
        import bench_build

        return bench_build.run(args.runs, log, before)
    if number == 9:
        import bench_mixed

        return bench_mixed.run(args.runs, args.latency, args.per_mib, log, before)
    if number in (7, 8):
        if number == 8 and 7 in only:
            return []  # made with 7
        import bench_rehearse

        cold = args.cold_runs if 8 in only else 0
        return bench_rehearse.run(args.runs, cold, log, before)
    raise SystemExit(f"no benchmark {number}")


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    raise SystemExit(main())

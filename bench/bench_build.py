"""6. `nox -s build` vs `python -m build` of the same project.

The sample project of benchmark 1 (release/ and the template noxfile copied in). Ours: `nox -s
build` (an isolated build with the release environment's uv, then PyPI's rules, `twine check`,
hashes and the manifest); the shared `.nox/release-env` is made by a first, untimed run.
Baseline: `python -m build` (pip-made isolated environments, as the usual guide says). dist/
and build/ are emptied before each run; runs are interleaved.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench_release import NAME, VERSION, _clean, _env, adopt, make_sample
from common import REPO, Row, check, interleave_many, median, run_timed


def _built(root: Path) -> bool:
    names = sorted(p.name for p in (root / "dist").glob("*") if p.is_file())
    return any(n.endswith(".whl") for n in names) and any(n.endswith(".tar.gz") for n in names)


def ours_once(root: Path) -> float:
    _clean(root)
    seconds = run_timed(
        [sys.executable, "-m", "nox", "-s", "build"], env=_env(), cwd=root, what="nox -s build"
    )
    check(_built(root), "nox -s build made the sdist and the wheel")
    return seconds


def by_hand_once(root: Path) -> float:
    _clean(root)
    seconds = run_timed(
        [sys.executable, "-m", "build"], env=_env(), cwd=root, what="python -m build"
    )
    check(_built(root), f"python -m build made the sdist and the wheel of {NAME} {VERSION}")
    return seconds


def run(runs: int, log: Callable[[str], None], before: Path | None = None) -> list[Row]:
    log("6. nox -s build (ours) vs python -m build")
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        work = Path(tmp)
        roots = {"ours": work / "ours"} | ({"before": work / "before"} if before else {})
        for label, root in roots.items():
            make_sample(root)
            adopt(root, REPO if label == "ours" else before or REPO)
            log(f"  {label}: first run (creates .nox/release-env): {ours_once(root):.1f}s")
        manual = work / "manual"
        make_sample(manual)
        sides = [(label, lambda _i, r=root: ours_once(r)) for label, root in roots.items()]
        times = interleave_many(
            runs, [*sides, ("python -m build", lambda _i: by_hand_once(manual))], log
        )
    return [
        Row(
            "`nox -s build` vs `python -m build`",
            median(times[0]),
            median(times[-1]),
            "s",
            "<= 1.1x",
            runs,
            "ours also checks PyPI's rules and the README, hashes the files and writes the "
            "manifest",
            baseline_label="python -m build",
            before=median(times[1]) if before else None,
            max_ratio=1.1,
        )
    ]

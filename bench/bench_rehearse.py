"""7-8. `nox -s rehearse` of nox-release itself: warm, and cold on a fresh clone.

Warm: a clone of this repository whose `.nox/release-env` a first, untimed run made; then
`nox -s rehearse` (build, upload to a local test index, verify the wheel and the sdist with the
dependencies from this machine's pip configuration, upload to a local prod index, the re-upload
checks). Cold: for every run a fresh clone, and empty uv and pip caches (UV_CACHE_DIR and
PIP_CACHE_DIR point at new folders): the release environment is made from nothing, every file
comes from the package index. The clone is of the committed HEAD (ours) or of --before REF.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from common import REPO, Row, base_env, interleave_many, median, run_timed


def _clone(code: Path, into: Path) -> Path:
    shutil.rmtree(into, ignore_errors=True)
    clone = ["git", "-c", "advice.detachedHead=false", "clone", "-q", "--shared"]
    subprocess.run([*clone, str(code), str(into)], check=True)
    return into


def _rehearse(root: Path, caches: Path | None = None) -> float:
    env = base_env(root)
    env.pop("PYTHONPATH", None)  # the clone's own release/, as in real use
    if caches is not None:
        shutil.rmtree(caches, ignore_errors=True)
        env |= {"UV_CACHE_DIR": str(caches / "uv"), "PIP_CACHE_DIR": str(caches / "pip")}
    return run_timed(
        [sys.executable, "-m", "nox", "-s", "rehearse"], env=env, cwd=root, what="rehearse"
    )


def run(
    runs: int, cold_runs: int, log: Callable[[str], None], before: Path | None = None
) -> list[Row]:
    codes = {"ours": REPO} | ({"before": before} if before else {})
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-rehearse-") as tmp:
        work = Path(tmp)
        log("7. nox -s rehearse of nox-release, warm" + (" (ours, before)" if before else ""))
        warm_roots = {label: _clone(code, work / f"warm-{label}") for label, code in codes.items()}
        for label, root in warm_roots.items():
            log(f"  {label}: first run (creates .nox/release-env): {_rehearse(root):.1f}s")
        sides = [(label, lambda _i, r=root: _rehearse(r)) for label, root in warm_roots.items()]
        warm = interleave_many(runs, sides, log)
        rows.append(
            Row(
                "warm `nox -s rehearse` of nox-release",
                median(warm[0]),
                None,
                "s",
                "<= 6 s",
                runs,
                "build, upload, verify wheel and sdist (deps from the pip configuration), "
                "upload, the two re-upload checks",
                before=median(warm[1]) if before else None,
                max_value=6.0,
            )
        )
        if cold_runs < 1:
            return rows
        log("8. nox -s rehearse of nox-release, cold: fresh clone, empty uv and pip caches")

        def cold(label: str) -> Callable[[int], float]:
            def once(_i: int) -> float:
                root = _clone(codes[label], work / f"cold-{label}")
                return _rehearse(root, caches=work / f"caches-{label}")

            return once

        cold_sides = [(label, cold(label)) for label in codes]
        colds = interleave_many(cold_runs, cold_sides, log)
        rows.append(
            Row(
                "cold `nox -s rehearse` (fresh clone, empty caches)",
                median(colds[0]),
                None,
                "s",
                "<= 45 s",
                cold_runs,
                "includes making .nox/release-env; files come from the package index",
                before=median(colds[1]) if before else None,
                max_value=45.0,
            )
        )
    return rows

"""2. Uploading 60 wheels to an index that takes 150 ms per upload request.

A fresh pypiserver behind tests/faultproxy.py (a `forward` rule adding ``latency`` seconds to
every POST) for each run. Ours: `python -m release upload --index test` (the guard's read,
the first file alone, the rest ``upload-concurrency`` at a time, the proof read). Baseline:
`twine upload` of the same files (sequential). Passwords go through the environment only.
Each run checks that every file landed exactly once.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from common import (
    REPO,
    Row,
    base_env,
    check,
    compile_release,
    fake_release,
    interleave_many,
    median,
    run_timed,
    twine_upload_argv,
)

from release.localindex import LocalIndex
from tests.faultproxy import FaultProxy, Rule
from tests.pipeline import index_environ
from tests.sample_projects import many_wheels

NAME = "bench-upload"


def upload_once(
    root: Path,
    wheels: list[str],
    latency: float,
    ours: bool,
    concurrency: int = 0,
    code: Path = REPO,
    per_mib: float = 0.0,
) -> float:
    """Seconds to upload ``wheels`` (in ``root``'s dist/) to a fresh index behind the fault
    proxy (``latency`` s per POST, plus ``per_mib`` s per MiB of its body): ours, with
    ``code``'s release/ (and ``concurrency``, if set), or twine; checks every wheel landed
    once. Row 9 (bench_mixed.py) runs it too."""
    with LocalIndex() as index, FaultProxy(index.base_url, lifetime=900) as proxy:
        rule = Rule("forward", method="POST", delay=latency, per_mib=per_mib, times=None)
        proxy.add(rule)
        env = base_env(code)
        if ours:
            env |= index_environ("test", proxy, index)
            if concurrency:
                env["RELEASE_UPLOAD_CONCURRENCY"] = str(concurrency)
            argv = [sys.executable, "-m", "release", "upload", "--index", "test"]
        else:
            env |= {"TWINE_USERNAME": index.username, "TWINE_PASSWORD": index.password}
            argv = twine_upload_argv(proxy.upload_url, [root / "dist" / w for w in wheels])
        seconds = run_timed(argv, env=env, cwd=root, what="ours" if ours else "twine upload")
        check(index.files() == sorted(wheels), "every wheel on the index")
        check(index.uploads == len(wheels), f"{index.uploads} POSTs for {len(wheels)} files")
        return seconds


def run(
    runs: int, count: int, latency: float, log: Callable[[str], None], before: Path | None = None
) -> list[Row]:
    log(f"2. {count} wheels, {latency * 1000:.0f} ms per upload request: ours (A) vs twine (B)")
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        root = Path(tmp) / "project"
        made = many_wheels(Path(tmp) / "made", NAME, "1.0", count)
        manifest = fake_release(root, NAME, "1.0", made)
        wheels = sorted(f.filename for f in manifest.files)
        for code in (REPO, before) if before else (REPO,):
            compile_release(code)
        sides = [
            ("ours", lambda _i: upload_once(root, wheels, latency, ours=True)),
            ("twine", lambda _i: upload_once(root, wheels, latency, ours=False)),
            ("ours x8", lambda _i: upload_once(root, wheels, latency, True, concurrency=8)),
        ]
        if before:
            sides.append(("before", lambda _i: upload_once(root, wheels, latency, True, 0, before)))
        ours, twine, ours8, *was = interleave_many(runs, sides, log)
    note = (
        "ours = whole `upload` command incl. guard read and proof read; "
        "baseline = sequential `twine upload`"
    )
    return [
        Row(
            f"upload {count} wheels, +{latency * 1000:.0f} ms/POST",
            median(ours),
            median(twine),
            "s",
            ">= 5x faster (<= 0.2x)",
            runs,
            note + " (upload-concurrency: the default)",
            baseline_label="twine upload",
            before=median(was[0]) if was else None,
            max_ratio=0.2,
        ),
        Row(
            "same, upload-concurrency = 8",
            median(ours8),
            median(twine),
            "s",
            "(context)",
            runs,
            baseline_label="twine upload",
        ),
    ]

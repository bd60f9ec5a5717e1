"""9. Uploading 60 wheels of mixed sizes over connections of a limited rate.

A compiled project's wheels differ in size (a universal2 macOS wheel is several times a win32
one). The index takes 150 ms per upload request plus ``per_mib`` seconds per MiB of its body
(tests/faultproxy.py's ``forward`` rule): each connection's upload rate, as a CI runner's TLS
connection to PyPI has. At the default 0.5 s per MiB (2 MiB/s a connection) each file takes
0.2 to 1.2 s, as wheels ten times larger would at 20 MiB/s. Ours: `python -m release upload
--index test` of a new release (the smallest wheel alone, the others 8 at a time, largest
first; the guard's and the proof's reads): the order of the wheels is what the row measures
(`--before` a commit of another order). Baseline: `twine upload` of the same files,
sequential. Sizes: 0.05 to 2 MiB, spread evenly, given to the wheels in a fixed shuffled order
(filenames sort in an order unrelated to size, as real ones do). Each run checks that every
file landed exactly once.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench_upload import upload_once
from common import REPO, Row, compile_release, fake_release, interleave_many, median

from tests.sample_projects import write_wheel

NAME = "bench-mixed"
COUNT = 60
SMALLEST, LARGEST = 0.05, 2.0  # MiB


def sizes(count: int = COUNT) -> list[int]:
    """``count`` sizes in bytes, evenly from SMALLEST to LARGEST MiB, in a fixed shuffle."""
    step = (LARGEST - SMALLEST) / (count - 1)
    made = [int((SMALLEST + i * step) * 2**20) for i in range(count)]
    random.Random(9).shuffle(made)  # noqa: S311 - a fixed order, not a secret
    return made


def make_wheels(folder: Path) -> list[Path]:
    """Wheels told apart by their build tag, each about its size in sizes() (random bytes as
    hex in a comment: deflate halves them, so half as many random bytes as the size)."""
    return [
        write_wheel(
            folder, NAME, "1.0", tag=f"{i}-py3-none-any", payload="# " + os.urandom(size).hex()
        )
        for i, size in enumerate(sizes(), start=1)
    ]


def run(
    runs: int,
    latency: float,
    per_mib: float,
    log: Callable[[str], None],
    before: Path | None = None,
) -> list[Row]:
    title = f"{COUNT} wheels of {SMALLEST}-{LARGEST} MiB, {latency * 1000:.0f} ms + {per_mib} s/MiB"
    log(f"9. {title} per upload request")
    with tempfile.TemporaryDirectory(prefix="bench-mixed-") as tmp:
        root = Path(tmp) / "project"
        made = make_wheels(Path(tmp) / "made")
        manifest = fake_release(root, NAME, "1.0", made)
        wheels = sorted(f.filename for f in manifest.files)
        for code in (REPO, before) if before else (REPO,):
            compile_release(code)
        sides = [
            ("ours", lambda _i: upload_once(root, wheels, latency, True, per_mib=per_mib)),
            ("twine", lambda _i: upload_once(root, wheels, latency, False, per_mib=per_mib)),
        ]
        if before:
            sides.append(
                ("before", lambda _i: upload_once(root, wheels, latency, True, 0, before, per_mib))
            )
        ours, twine, *was = interleave_many(runs, sides, log)
    return [
        Row(
            f"upload {title}/POST",
            median(ours),
            median(twine),
            "s",
            "(context)",
            runs,
            "ours = whole `upload` command of a new release (the smallest wheel alone, then the "
            "largest first); baseline = sequential `twine upload`",
            baseline_label="twine upload",
            before=median(was[0]) if was else None,
        )
    ]

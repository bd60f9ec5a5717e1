"""4. Memory: peak RSS of `python -m release upload` sending a 500 MB wheel.

The wheel (random bytes, stored uncompressed) is written in pieces to a temporary folder and
deleted afterwards. The upload goes straight to a local pypiserver (no proxy). Peak RSS is
ru_maxrss of the child, read by bench/maxrss.py, which runs one command and reports its
child's peak. Baseline: the same command when every file is already there (same imports, same
manifest check and index read, nothing sent); also twine uploading the same file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from common import Row, base_env, check, fake_release, median, twine_upload_argv

from release.localindex import LocalIndex
from tests.pipeline import index_environ
from tests.sample_projects import big_wheel

NAME = "bench-big"
MAXRSS = Path(__file__).resolve().parent / "maxrss.py"


def peak_mb(argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> float:
    proc = subprocess.run(
        [sys.executable, str(MAXRSS), *argv],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    lines = proc.stdout.strip().splitlines()
    result = json.loads(lines[-1]) if lines else {}
    if result.get("returncode") != 0:
        raise RuntimeError(f"{argv} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return float(result["maxrss_kb"]) / 1024


def run(runs: int, size_mb: int, log: Callable[[str], None]) -> list[Row]:
    log(f"4. peak RSS uploading a {size_mb} MB wheel ({runs} run(s))")
    uploading: list[float] = []
    idle: list[float] = []
    twine: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        root = Path(tmp) / "project"
        made = Path(tmp) / "made"
        made.mkdir()
        wheel = big_wheel(made, NAME, "1.0", size_mb * 1024 * 1024)
        manifest = fake_release(root, NAME, "1.0", [wheel])
        path = root / "dist" / manifest.files[0].filename
        ours = [sys.executable, "-m", "release", "upload", "--index", "test"]
        for i in range(runs):
            with LocalIndex() as index:
                env = (
                    base_env()
                    | index_environ("test", index)
                    | {
                        "RELEASE_TIMEOUT": "600",
                    }
                )
                uploading.append(peak_mb(ours, env, root))
                check(index.files() == [path.name], "the big wheel is on the index")
                idle.append(peak_mb(ours, env, root))  # nothing to do: already there
                check(index.uploads == 1, "sent once")
            with LocalIndex() as index:
                env = base_env() | {
                    "TWINE_USERNAME": index.username,
                    "TWINE_PASSWORD": index.password,
                }
                argv = twine_upload_argv(index.upload_url, [path])
                twine.append(peak_mb(argv, env, root))
            log(
                f"  run {i + 1}/{runs}: upload {uploading[-1]:.0f} MB, nothing to do "
                f"{idle[-1]:.0f} MB, twine {twine[-1]:.0f} MB"
            )
    delta = [u - b for u, b in zip(uploading, idle, strict=True)]
    return [
        Row(
            f"peak RSS, upload {size_mb} MB",
            median(uploading),
            median(idle),
            "MB",
            "< +100 MB",
            runs,
            f"above the same command with nothing to upload: +{median(delta):.0f} MB; "
            f"twine upload of the same file: {median(twine):.0f} MB",
            baseline_label="nothing to do",
        )
    ]

"""Run a build in a child process (release/pybuild.py) and read what it used (thin I/O).

The child gets an environment without credentials (setup.py and build backends are
third-party code) and runs in a process group of its own that ends with it
(:func:`release.contained.run_contained`: nothing the backend starts keeps running into the
upload), ``SOURCE_DATE_EPOCH`` when one is given, and optionally a constraints file
that pins the build requirements (``reproduce``). It reports the build backend and the
versions of the build requirements it installed.
"""

from __future__ import annotations

__all__ = ["BuildRecord", "installer", "run_build"]

import dataclasses
import json
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from .childenv import without_credentials
from .contained import Stoppable, run_contained
from .errors import ConfigError, DistError
from .installer import find_uv

DRIVER = Path(__file__).with_name("pybuild.py")
Kind = Literal["both", "sdist", "wheel"]


@dataclasses.dataclass(frozen=True)
class BuildRecord:
    backend: str
    requirements: dict[str, str]


def installer(choice: str, isolation: bool) -> str:
    """ "none" (no isolation), "pip" or "uv", from build-isolation and build-installer."""
    if choice not in ("auto", "pip", "uv"):
        raise ConfigError(
            f"build-installer = {choice!r} is not one of auto, pip, uv.",
            "Set build-installer to auto, pip or uv.",
        )
    if not isolation:
        return "none"
    if choice == "auto":  # the release environment's pinned uv (build finds the same one)
        return "uv" if find_uv() else "pip"
    return choice


def run_build(
    srcdir: Path,
    outdir: Path,
    kind: Kind,
    *,
    using: str,
    environ: Mapping[str, str],
    epoch: int | None = None,
    pins: Mapping[str, str] | None = None,
    stoppable: Stoppable | None = None,
) -> BuildRecord:
    """Build ``kind`` of the project in ``srcdir`` into ``outdir``; raise DistError with the
    output's tail when the build fails (``stoppable``: another thread may end it)."""
    env = without_credentials(environ)
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = str(epoch)
    with tempfile.TemporaryDirectory(prefix="nox-release-buildrun-") as tmp:
        record = Path(tmp) / "record.json"
        argv = [sys.executable, str(DRIVER), str(srcdir), "--outdir", str(outdir)]
        argv += ["--record", str(record), "--kind", kind, "--installer", using]
        if pins:
            constraints = Path(tmp) / "constraints.txt"
            constraints.write_text(
                "".join(f"{name}=={version}\n" for name, version in sorted(pins.items())),
                encoding="utf-8",
            )
            argv += ["--constraints", str(constraints)]
        proc = run_contained(argv, env=env, cwd=srcdir, stoppable=stoppable)
        if proc.returncode != 0 or not record.is_file():
            tail = "\n    ".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
            raise DistError(
                f"The build failed (exit {proc.returncode}):\n    {tail}",
                "Fix the build error above; nothing was changed in dist/.",
            )
        data = json.loads(record.read_text(encoding="utf-8"))
    return BuildRecord(
        str(data["backend"]), {str(k): str(v) for k, v in data["requirements"].items()}
    )

"""5. A compiled project's matrix: gather 60 wheels from 12 runners' folders + the sdist job's,
then upload them, to an index that takes 150 ms per upload request.

Ours: `python -m release gather` of the 13 folders (each with its partial manifest) then
`python -m release upload --index test` (wheels concurrently, the sdist last, the guard's read
and the proof read), timed together. Baseline: `twine upload` of the same 61 files (sequential),
after the same gather. A fresh pypiserver behind tests/faultproxy.py for each run; each run checks
that every file landed exactly once and that the sdist was the last upload.
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
    interleave_many,
    median,
    run_timed,
    twine_upload_argv,
)

from release.distdir import hash_file, write_manifest
from release.localindex import LocalIndex
from release.manifest import DistFile, Manifest, Runner, kind_of
from tests.faultproxy import FaultProxy, Rule
from tests.pipeline import index_environ
from tests.sample_projects import write_project, write_sdist, write_wheel

NAME = "bench-matrix"
VERSION = "1.0"
PYTHONS = ("cp310", "cp311", "cp312", "cp313", "cp314")
PLATFORMS = (
    "manylinux_2_17_x86_64",
    "manylinux_2_17_aarch64",
    "manylinux_2_17_i686",
    "manylinux_2_17_ppc64le",
    "manylinux_2_17_s390x",
    "musllinux_1_2_x86_64",
    "musllinux_1_2_aarch64",
    "macosx_10_9_x86_64",
    "macosx_11_0_arm64",
    "win_amd64",
    "win32",
    "win_arm64",
)


def _folder(folder: Path, files: list[Path], runner: Runner) -> None:
    entries = []
    for path in files:
        sha, size = hash_file(path)
        entries.append(DistFile(path.name, sha, size, kind_of(path.name), runner.id))
    write_manifest(
        folder, Manifest(NAME, VERSION, tuple(entries), runners={runner.id: runner}, partial=True)
    )


def make_matrix(root: Path) -> list[Path]:
    """12 runners' folders of 5 wheels each, and the sdist job's folder."""
    artifacts = root / "artifacts"
    folders = []
    for platform in PLATFORMS:
        folder = artifacts / f"wheels-{platform}"
        folder.mkdir(parents=True)
        wheels = [write_wheel(folder, NAME, VERSION, tag=f"{py}-{py}-{platform}") for py in PYTHONS]
        _folder(folder, wheels, Runner(platform, "cpython-3.12", f"bench {platform}"))
        folders.append(folder)
    folder = artifacts / "sdist"
    folder.mkdir()
    _folder(folder, [write_sdist(folder, NAME, VERSION)], Runner("linux", "cpython-3.12", "sdist"))
    return [*folders, folder]


def _run_once(
    root: Path, folders: list[Path], latency: float, ours: bool, code: Path = REPO
) -> float:
    env = base_env(code)
    gather = [sys.executable, "-m", "release", "gather", *map(str, folders)]
    with LocalIndex() as index, FaultProxy(index.base_url, lifetime=900) as proxy:
        proxy.add(Rule("forward", method="POST", delay=latency, times=None))
        if ours:
            env |= index_environ("test", proxy, index)
            upload = [sys.executable, "-m", "release", "upload", "--index", "test"]
            seconds = run_timed(gather, env=env, cwd=root, what="gather")
            seconds += run_timed(upload, env=env, cwd=root, what="upload")
        else:
            run_timed(gather, env=env, cwd=root, what="gather")  # same dist/, not timed
            env |= {"TWINE_USERNAME": index.username, "TWINE_PASSWORD": index.password}
            files = sorted((root / "dist").glob("*.whl")) + sorted((root / "dist").glob("*.tar.gz"))
            argv = twine_upload_argv(proxy.upload_url, files)
            seconds = run_timed(argv, env=env, cwd=root, what="twine upload")
        expected = sorted(
            p.name for p in (root / "dist").iterdir() if p.name.endswith((".whl", ".gz"))
        )
        check(index.files() == expected, "every file on the index")
        check(index.uploads == len(expected), f"{index.uploads} POSTs for {len(expected)} files")
        check(proxy.uploads()[-1].endswith(".tar.gz"), "the sdist went up last")
        return seconds


def run(
    runs: int, latency: float, log: Callable[[str], None], before: Path | None = None
) -> list[Row]:
    log(f"5. gather + upload of a 60-wheel matrix, {latency * 1000:.0f} ms per upload request")
    with tempfile.TemporaryDirectory(prefix="bench-gather-") as tmp:
        root = Path(tmp) / "project"
        write_project(root, NAME, VERSION, build_isolation=True)
        folders = make_matrix(root)
        for code in (REPO, before) if before else (REPO,):
            compile_release(code)
        sides = [
            ("ours", lambda _i: _run_once(root, folders, latency, ours=True)),
            ("twine", lambda _i: _run_once(root, folders, latency, ours=False)),
        ]
        if before:
            sides.append(("before", lambda _i: _run_once(root, folders, latency, True, before)))
        ours, twine, *was = interleave_many(runs, sides, log)
    return [
        Row(
            f"gather + upload 60 wheels + sdist, +{latency * 1000:.0f} ms/POST",
            median(ours),
            median(twine),
            "s",
            ">= 5x faster (<= 0.2x)",
            runs,
            "ours = `gather` of 13 folders + `upload` (guard read, wheels concurrently, sdist "
            "last, proof read); baseline = sequential `twine upload` of the same files",
            baseline_label="twine upload",
            before=median(was[0]) if was else None,
            max_ratio=0.2,
        )
    ]

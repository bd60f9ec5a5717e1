"""1. `nox -s release` against two local indexes vs the same work done by hand.

A sample project (src layout, setuptools, a README) gets nox-release the way a user adds it:
release/ copied in, plus the template noxfile. Each run starts two fresh pypiservers (test and
prod), so each run releases a new version; dist/ is emptied before each run.

Ours: `nox -s release` (build with isolation, twine check, manifest; guarded upload to test with
the proof read; verify: fresh environments, install wheel and sdist from the test index, import
check; guarded upload to prod of the verified bytes). The shared release environment
(.nox/release-env) is created by a first, untimed run, as it is once per machine in real use;
that cold run is reported apart.

By hand, as the usual guide says: `python -m build`; `twine upload` to test; a fresh venv +
`pip install --no-deps` of the exact version from the test index and an import; `twine upload`
to prod. Passwords go through the environment only. Runs are interleaved.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import REPO, Row, base_env, check, interleave_many, median, run_timed

from release.localindex import LocalIndex
from tests.pipeline import index_environ
from tests.sample_projects import write_project

NAME = "bench-sample"
MODULE = "bench_sample"
VERSION = "1.0.0"


def make_sample(root: Path) -> None:
    write_project(root, NAME, VERSION, module=MODULE, build_isolation=True)


def adopt(root: Path, code: Path = REPO) -> None:
    """What a user does: copy release/ and the template noxfile into the project."""
    shutil.copytree(
        code / "release", root / "release", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(code / "release" / "templates" / "noxfile.py", root / "noxfile.py")


def _clean(root: Path) -> None:
    shutil.rmtree(root / "dist", ignore_errors=True)
    shutil.rmtree(root / "build", ignore_errors=True)


def _env() -> dict[str, str]:
    env = base_env()
    env.pop("PYTHONPATH", None)  # the project's own copy of release/ is used, as in real use
    return env


def ours_once(root: Path) -> float:
    _clean(root)
    with LocalIndex() as test, LocalIndex() as prod:
        env = (
            _env()
            | index_environ("test", test)
            | index_environ("prod", prod)
            | {
                # The local prod index has no setuptools to build the sdist with; take build and
                # package dependencies from this machine's pip configuration (PyPI in real use).
                "RELEASE_DEPENDENCY_INDEX_URL": "pip",
            }
        )
        seconds = run_timed(
            [sys.executable, "-m", "nox", "-s", "release"], env=env, cwd=root, what="nox -s release"
        )
        check(len(prod.files()) == 2 and prod.files() == test.files(), "released to both")
        return seconds


def manual_once(root: Path, work: Path) -> float:
    _clean(root)
    venv = work / "venv"
    shutil.rmtree(venv, ignore_errors=True)
    with LocalIndex() as test, LocalIndex() as prod:
        env = _env()
        py = sys.executable
        started = time.perf_counter()
        run_timed([py, "-m", "build"], env=env, cwd=root, what="python -m build")
        files = [str(p) for p in sorted((root / "dist").iterdir())]
        for index in (test,):
            up = env | {"TWINE_USERNAME": index.username, "TWINE_PASSWORD": index.password}
            run_timed(
                [
                    py,
                    "-m",
                    "twine",
                    "upload",
                    "--non-interactive",
                    "--repository-url",
                    index.upload_url,
                    *files,
                ],
                env=up,
                cwd=root,
                what="twine upload (test)",
            )
        run_timed([py, "-m", "venv", str(venv)], env=env, cwd=work, what="venv")
        run_timed(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--no-deps",
                "--no-cache-dir",
                "--index-url",
                test.index_url,
                f"{NAME}=={VERSION}",
            ],
            env=env,
            cwd=work,
            what="pip install from test",
        )
        run_timed(
            [str(venv / "bin" / "python"), "-c", f"import {MODULE}"],
            env=env,
            cwd=work,
            what="import",
        )
        up = env | {"TWINE_USERNAME": prod.username, "TWINE_PASSWORD": prod.password}
        run_timed(
            [
                py,
                "-m",
                "twine",
                "upload",
                "--non-interactive",
                "--repository-url",
                prod.upload_url,
                *files,
            ],
            env=up,
            cwd=root,
            what="twine upload (prod)",
        )
        seconds = time.perf_counter() - started
        check(len(prod.files()) == 2, "released to prod by hand")
        return seconds


def run(runs: int, log: Callable[[str], None], before: Path | None = None) -> list[Row]:
    log("1. nox -s release (ours) vs by hand" + (" and ours at --before" if before else ""))
    with tempfile.TemporaryDirectory(prefix="bench-release-") as tmp:
        work = Path(tmp)
        roots = {"ours": work / "ours"} | ({"before": work / "before"} if before else {})
        colds = []
        for label, root in roots.items():
            make_sample(root)
            adopt(root, REPO if label == "ours" else before or REPO)
            cold = ours_once(root)  # creates .nox/release-env, once per machine
            colds.append(f"{label} {cold:.1f}s")
            log(f"  {label}: cold run (creates the shared release environment): {cold:.1f}s")
        manual_root = work / "manual"
        make_sample(manual_root)
        sides = [(label, lambda _i, r=root: ours_once(r)) for label, root in roots.items()]
        times = interleave_many(
            runs, [*sides, ("by hand", lambda _i: manual_once(manual_root, work))], log
        )
    return [
        Row(
            "`nox -s release` vs by hand",
            median(times[0]),
            median(times[-1]),
            "s",
            "<= 0.5x",
            runs,
            f"first run on a machine (creates .nox/release-env): {', '.join(colds)}; ours "
            "also verifies the sdist, checks hashes and proves both uploads",
            baseline_label="by hand",
            before=median(times[1]) if before else None,
            max_ratio=0.5,
        )
    ]

"""7-8. `nox -s rehearse` of nox-release itself: warm, and cold on a fresh clone.

Warm: a clone of this repository whose `.nox/release-env` a first, untimed run made; then
`nox -s rehearse` (build, the reproducible check's rebuild beside it, upload to a local test
index, verify the wheel and the sdist, upload to a local prod index, the re-upload checks).
Cold: for every run a fresh clone, and empty uv and pip caches (UV_CACHE_DIR and PIP_CACHE_DIR
point at new folders): the release environment is made from nothing, every file comes from the
package index. The clone is of the committed HEAD (ours) or of --before REF.

The package index is local, the same for every side and every run: before the first run the
bench downloads once (`pip download`, with this machine's pip configuration, untimed) what a
rehearsal installs: each side's `release/requirements.lock` (the release environment, and
nox-release's own dependencies when verify installs the wheel and the sdist) and its build
backend (`[build-system] requires`). The rehearsals then see only that folder: pip through
PIP_CONFIG_FILE (`no-index`, `find-links`), uv (the release environment, build isolation)
through UV_CONFIG_FILE (the same two settings). So the rows measure nox-release, not the
network nor this sandbox's DNS server (it drops concurrent lookups: two uv processes
resolving pypi.org at once often wait 5 s, docs/maintaining.md).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from common import REPO, Row, base_env, interleave_many, median, run_timed

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - tomli is a dependency of the release environment on 3.10
    import tomli as tomllib


def _clone(code: Path, into: Path) -> Path:
    shutil.rmtree(into, ignore_errors=True)
    clone = ["git", "-c", "advice.detachedHead=false", "clone", "-q", "--shared"]
    subprocess.run([*clone, str(code), str(into)], check=True)
    return into


def local_index(codes: Iterable[Path], into: Path, log: Callable[[str], None]) -> dict[str, str]:
    """Download once what a rehearsal of each checkout in ``codes`` installs into ``into``;
    the environment variables that make pip and uv take packages from there alone."""
    into.mkdir(parents=True, exist_ok=True)
    download = [sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(into)]
    for code in codes:
        lock = code / "release" / "requirements.lock"
        with (code / "pyproject.toml").open("rb") as f:
            table = tomllib.load(f).get("build-system", {})
        backend = table.get("requires", ["setuptools>=40.8.0"])  # PEP 517's default
        for what in (["--require-hashes", "-r", str(lock)], backend):
            proc = subprocess.run([*download, *what], capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise RuntimeError(f"pip download {' '.join(what)} failed:\n{proc.stderr}")
    pip_conf, uv_toml = into.parent / "pip.conf", into.parent / "uv.toml"
    pip_conf.write_text(f"[global]\nno-index = true\nfind-links = {into}\n", encoding="utf-8")
    uv_toml.write_text(f'no-index = true\nfind-links = ["{into}"]\n', encoding="utf-8")
    log(f"  local package index: {len(list(into.iterdir()))} files in {into}")
    return {"PIP_CONFIG_FILE": str(pip_conf), "UV_CONFIG_FILE": str(uv_toml)}


def _rehearse(root: Path, index: dict[str, str], caches: Path | None = None) -> float:
    env = base_env(root)
    env.pop("PYTHONPATH", None)  # the clone's own release/, as in real use
    for name in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_NO_INDEX"):
        env.pop(name, None)  # PIP_* variables would win over PIP_CONFIG_FILE
    env |= index
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
        index = local_index(codes.values(), work / "index" / "files", log)
        log("7. nox -s rehearse of nox-release, warm" + (" (ours, before)" if before else ""))
        warm_roots = {label: _clone(code, work / f"warm-{label}") for label, code in codes.items()}
        for label, root in warm_roots.items():
            first = _rehearse(root, index)
            log(f"  {label}: first run (creates .nox/release-env): {first:.1f}s")
        sides = [
            (label, lambda _i, r=root: _rehearse(r, index)) for label, root in warm_roots.items()
        ]
        warm = interleave_many(runs, sides, log)
        rows.append(
            Row(
                "warm `nox -s rehearse` of nox-release",
                median(warm[0]),
                None,
                "s",
                "<= 6 s",
                runs,
                "build (and the rebuild of the commit beside it), upload, verify wheel and "
                "sdist, upload, the two re-upload checks; packages from a local index",
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
                return _rehearse(root, index, caches=work / f"caches-{label}")

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
                "includes making .nox/release-env; every file from the local package index",
                before=median(colds[1]) if before else None,
                max_value=45.0,
            )
        )
    return rows

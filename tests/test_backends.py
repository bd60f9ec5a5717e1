"""Adopting nox-release works with every common build backend and layout.

For each sample project (tests/sample_projects.py): ``python -m release init`` it, apply the
fix init advises (if any), run the next steps it prints (for a version from git tags: commit
and tag), then ``python -m release rehearse`` in it, as a maintainer would, from the copied
``release/`` package: on the first try. The rehearsal must succeed and the local prod index
must end up holding exactly the files that were built. Flat layouts also get their wheel
checked: ``release/`` must never ship in it. Backends come from the normal pip index through
build isolation (pip's cache helps).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from release import adoption
from tests.sample_projects import SAMPLES, Sample, git, write_sample

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _environ() -> dict[str, str]:
    """The user's environment without this suite's index overrides or a CI summary file."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("RELEASE_") and k not in {"GITHUB_STEP_SUMMARY", "PYTHONPATH"}
    }


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv],
        cwd=cwd,
        env=_environ(),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.id for s in SAMPLES])
def test_init_then_rehearse(sample: Sample, tmp_path: Path) -> None:
    if sample.git_tag and shutil.which("git") is None:
        pytest.skip("git is not installed: a setuptools-scm version needs a git repository")
    root = write_sample(sample, tmp_path / sample.id)
    own_noxfile = (root / "noxfile.py").read_bytes() if (root / "noxfile.py").exists() else None

    proc = _run(["-m", "release", "init", str(root), "--json"], cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)["result"]
    assert document["layout"]["checked"] is True, proc.stderr  # init built the project
    # init warns exactly when the backend would take release/ for a package of the project
    assert bool(document["advice"]) == bool(sample.fix), document["advice"]
    if sample.fix:
        (advice,) = document["advice"]
        assert advice["toml"] == sample.fix  # keeps the project's own packages
        with (root / "pyproject.toml").open("a", encoding="utf-8") as f:
            f.write("\n" + advice["toml"])
    assert ".nox/" in (root / ".gitignore").read_text(encoding="utf-8")
    assert (root / "pyproject.toml").exists() == ("pyproject.toml" in sample.files)
    if own_noxfile is not None:
        assert (root / "noxfile.py").read_bytes() == own_noxfile
        assert document["import_lines"] == adoption.IMPORT_LINES
    else:
        assert (root / "noxfile.py").is_file()
    assert (root / ".github" / "workflows" / "release.yml").is_file()
    # the next steps init printed, word for word (git commit and tag for a VCS version)
    assert document["next_steps"][-1] == "nox -s rehearse"
    assert bool(sample.git_tag) == (len(document["next_steps"]) > 1), document["next_steps"]
    for command in document["next_steps"][:-1]:
        argv = shlex.split(command)
        assert argv[0] == "git", command
        git(root, *argv[1:])

    # cwd=root: `python -m release` runs the copy init made, not this checkout
    proc = _run(["-m", "release", "rehearse", "--json"], cwd=root)
    assert proc.returncode == 0, proc.stderr[-4000:]
    rehearsal = json.loads(proc.stdout)["result"]["rehearsal"]
    built = sorted(rehearsal["files"])
    assert rehearsal["version"] == sample.version
    assert len(built) == 2
    assert any(f.endswith(".tar.gz") for f in built)
    assert any(f.startswith(sample.wheel_prefix) and f.endswith(".whl") for f in built)
    assert sorted(rehearsal["prod_index_files"]) == built  # exactly the built files
    assert sorted(rehearsal["test_index_files"]) == built
    assert rehearsal["rerun_nothing_to_do"] is True
    assert rehearsal["changed_bytes_refused"] is True
    # the verdict a release would see before uploading: a rebuild of the commit (the samples
    # made git repositories by init's next steps), or "cannot" outside git
    verdicts = {"hatch-vcs-src": "identical", "scm-src": "differs", "pbr-flat": "differs"}
    verdict = verdicts.get(sample.id, "cannot")
    assert rehearsal["reproducible"] == verdict

    if sample.layout == "flat":
        wheel_dir = tmp_path / "wheel"
        proc = _run(["-m", "build", "--wheel", "--outdir", str(wheel_dir), str(root)], cwd=root)
        assert proc.returncode == 0, proc.stderr[-4000:]
        (wheel,) = wheel_dir.glob("*.whl")
        names = zipfile.ZipFile(wheel).namelist()
        assert sample.package_entry in names
        assert not [n for n in names if n.startswith("release/")], "release/ shipped in the wheel"


def test_a_version_from_git_that_is_no_release_is_explained(tmp_path: Path) -> None:
    """init's steps skipped: the rehearsal stops before any upload and says why (the files
    left uncommitted, then the commits past the tag) and which tag to make; never "allow
    development releases"."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    (sample,) = [s for s in SAMPLES if s.id == "scm-src"]
    root = write_sample(sample, tmp_path / sample.id)
    proc = _run(["-m", "release", "init", str(root), "--no-build-check"], cwd=REPO)
    assert proc.returncode == 0, proc.stderr

    proc = _run(["-m", "release", "rehearse"], cwd=root)  # init's files not committed
    out = proc.stdout + proc.stderr
    assert proc.returncode == 3, out[-3000:]
    assert "1 tracked file has uncommitted changes (pyproject.toml)" in out
    assert 'git tag -a v1.2.4 -m "Release v1.2.4"' in out
    assert "ALLOW_DEV" not in out

    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "adopt nox-release")  # committed, not tagged
    proc = _run(["-m", "release", "rehearse"], cwd=root)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 3, out[-3000:]
    assert "is 1 commit past the tag v1.2.3" in out
    assert "uploaded anywhere" in out or "nothing was changed in dist/" in out
    assert 'git tag -a v1.2.4 -m "Release v1.2.4"' in out
    assert "ALLOW_DEV" not in out

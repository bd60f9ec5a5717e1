"""Reproducing a release from its commit: what build records, and reproduce's verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from release.gitstate import checkout
from release.distdir import load_manifest, write_manifest
from release.manifest import Manifest, Source
from tests.sample_projects import git

SHA = "0" * 64
COMMIT = "979e5d006b475347caa143616cfd2423c3108a2b"


def _manifest(source: Source | None) -> Manifest:
    from release.manifest import DistFile

    files = (DistFile("demo-1.0.tar.gz", SHA, 1, "sdist"),)
    return Manifest("demo", "1.0", files, source=source)


def test_the_source_round_trips_through_the_manifest(tmp_path: Path) -> None:
    source = Source(COMMIT, True, 1_700_000_000, "hatchling.build", {"hatchling": "1.27.0"})
    write_manifest(tmp_path, _manifest(source))
    assert load_manifest(tmp_path).source == source


def test_a_manifest_without_a_source_still_reads(tmp_path: Path) -> None:
    write_manifest(tmp_path, _manifest(None))
    data = json.loads((tmp_path / "release-manifest.json").read_text())
    assert "source" not in data
    assert load_manifest(tmp_path).source is None


@pytest.mark.parametrize(
    "bad",
    [
        {"commit": "HEAD"},
        {"commit": "../../etc"},
        {"commit": COMMIT, "source_date_epoch": "yesterday"},
        {"commit": COMMIT, "source_date_epoch": -1},
        {"commit": COMMIT, "requirements": ["hatchling"]},
        "a string",
    ],
)
def test_a_bad_source_is_refused(tmp_path: Path, bad: object) -> None:
    write_manifest(tmp_path, _manifest(None))
    path = tmp_path / "release-manifest.json"
    data = json.loads(path.read_text())
    data["source"] = bad
    path.write_text(json.dumps(data))
    with pytest.raises(Exception, match="not a valid manifest"):
        load_manifest(tmp_path)


def test_checkout_says_commit_time_and_what_is_not_committed(tmp_path: Path) -> None:
    assert checkout(tmp_path) is None  # no git work tree
    git(tmp_path, "init", "-q", "-b", "main")
    assert checkout(tmp_path) is None  # no commit yet
    (tmp_path / "a.py").write_text("a = 1\n")
    (tmp_path / ".gitignore").write_text("ignored.txt\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "-c", "core.hooksPath=/dev/null", "commit", "-qm", "one", "--date", "@1")
    head = checkout(tmp_path)
    assert head is not None
    assert head.clean
    assert len(head.commit) == 40
    assert head.committed > 1_600_000_000  # the committer's time, not the author's (1)
    (tmp_path / "ignored.txt").write_text("x")
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "demo-1.0.tar.gz").write_text("x")
    clean = checkout(tmp_path, ignore=("dist",))
    assert clean is not None
    assert clean.clean  # ignored files and dist/ do not count
    (tmp_path / "new.py").write_text("b = 2\n")
    (tmp_path / "a.py").write_text("a = 2\n")
    dirty = checkout(tmp_path, ignore=("dist",))
    assert dirty is not None
    assert sorted(dirty.dirty) == ["a.py", "new.py"]

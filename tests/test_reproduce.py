"""Reproducing a release from its commit: what build records, and reproduce's verdicts."""

from __future__ import annotations

import calendar
import dataclasses
import gzip
import io
import json
import os
import shutil
import tarfile
import time
import zipfile
from concurrent.futures import Future
from pathlib import Path

import pytest

from release import cli
from release.commands import build as build_command
from release.commands import release as release_command
from release.commands import reproduce as reproduce_command
from release.distdir import hash_file, load_manifest, write_manifest
from release.errors import CannotReproduce, ExitCode, NotReproducible
from release.gitstate import checkout
from release.manifest import DistFile, Manifest, Runner, Source
from release.reprodiff import FINE, stamped_after
from release.reproduce import Rebuilt, download_release, fits, require_source
from tests.conftest import IndexPair
from tests.pipeline import environ_for, make_ctx, text
from tests.sample_projects import (
    SAMPLES,
    git,
    write_c_extension_project,
    write_project,
    write_sample,
    write_wheel,
)

slow = pytest.mark.slow

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


# ---------------------------------------------------------------- real builds (slow)

SAMPLE_BY_ID = {s.id: s for s in SAMPLES}
# Backends whose sdist and wheel come out the very same from a clean rebuild
# (release/docs/reproduce.md's table); the others must explain every file that differs.
REPRODUCING = {"hatchling-src", "flit-flat", "poetry-src"}
NO_RULES = {  # the build-and-compare tests contact no index; PyPI's platform-tag rule is off
    "RELEASE_TEST_INDEX_URL": "http://127.0.0.1:9/simple/",
    "RELEASE_PROD_INDEX_URL": "http://127.0.0.1:9/simple/",
    "RELEASE_TEST_UPLOAD_URL": "http://127.0.0.1:9/",
    "RELEASE_PROD_UPLOAD_URL": "http://127.0.0.1:9/",
}


def committed(root: Path) -> Path:
    """``root`` as a git repository with everything committed (dist/ and .nox/ ignored)."""
    (root / ".gitignore").write_text("dist/\n.nox/\n", encoding="utf-8")
    if not (root / ".git").exists():
        git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "release")
    return root


def sample(tmp_path: Path, sample_id: str) -> Path:
    if sample_id == "c-extension":
        root = tmp_path / sample_id
        root.mkdir()
        return committed(write_c_extension_project(root))
    return committed(write_sample(SAMPLE_BY_ID[sample_id], tmp_path / sample_id))


def environ(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RELEASE_", "SOURCE_DATE"))}
    return env | NO_RULES | extra


@slow
@pytest.mark.parametrize(
    "sample_id",
    [
        "hatchling-src",
        "flit-flat",
        "poetry-src",
        "pdm-src",
        "setuptools-src",
        "setup-py-only",
        "c-extension",
    ],
)
def test_each_backend_reproduces_or_explains(tmp_path: Path, sample_id: str) -> None:
    root = sample(tmp_path, sample_id)
    ctx = make_ctx(root, environ())
    manifest = build_command.build(ctx)
    assert manifest.source is not None
    assert manifest.source.clean
    assert manifest.source.requirements  # the versions resolved, to pin for the rebuild
    assert manifest.canonical_name not in manifest.source.requirements  # not its own egg-info
    failure = ""
    try:
        reproduce_command.reproduce(ctx, None)
    except NotReproducible as exc:
        failure = exc.message
    found = ctx.reporter.document["reproduce"]
    assert found["reproduced"] is (not failure)
    if sample_id in REPRODUCING:
        assert not failure
    bad = [f for f in found["files"] if f["status"] not in FINE]
    assert bool(bad) is bool(failure)
    for f in bad:  # every file that differs is explained: its members and a cause
        assert f["differences"], f
        assert f["causes"], f


@slow
@pytest.mark.parametrize("using", ["pip", "uv"])
def test_the_build_records_every_distribution_of_its_isolated_environments(
    tmp_path: Path, using: str
) -> None:
    """What reproduce pins: the build backend and everything installed with it, read from the
    isolated environment's site-packages (pip, the installer, left out)."""
    from release.buildrun import run_build

    root = sample(tmp_path, "hatchling-src")
    record = run_build(root, tmp_path / "out", "wheel", using=using, environ=environ())
    assert {"hatchling", "packaging", "pathspec", "pluggy", "trove-classifiers"} <= set(
        record.requirements
    )
    assert "pip" not in record.requirements
    assert all(v[:1].isdigit() for v in record.requirements.values()), record.requirements


HOOK = '''\
import datetime
import tempfile

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CustomBuildHook(BuildHookInterface):
    """Writes the build time into the wheel: the nondeterminism reproduce must catch."""

    def initialize(self, version, build_data):
        if self.target_name != "wheel":
            return
        path = tempfile.mkdtemp() + "/_built_at.py"
        with open(path, "w") as f:
            f.write(f"BUILT_AT = {datetime.datetime.now().isoformat()!r}\\n")
        build_data["force_include"][path] = "nrs_hatchling_src/_built_at.py"
'''


@slow
def test_a_build_hook_writing_the_time_is_caught_and_the_member_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _hooked(tmp_path)
    for key, value in NO_RULES.items():
        monkeypatch.setenv(key, value)
    assert cli.main(["--root", str(root), "build"]) == 0
    wheel = next((root / "dist").glob("*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        assert "nrs_hatchling_src/_built_at.py" in zf.namelist()  # the hook ran
    capsys.readouterr()
    code = cli.main(["--root", str(root), "reproduce", "--json"])
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert code == ExitCode.NOT_REPRODUCIBLE == doc["exit_code"]
    assert "nrs_hatchling_src/_built_at.py" in doc["error"]["message"]
    (differs,) = [f for f in doc["result"]["reproduce"]["files"] if f["status"] == "differs"]
    assert differs["filename"] == wheel.name
    members = {d["member"] for d in differs["differences"]}
    assert "nrs_hatchling_src/_built_at.py" in members
    assert [c["id"] for c in differs["causes"]] == ["embedded-time"]
    assert "+BUILT_AT = " in captured.err  # the short diff, for the person


@slow
def test_cannot_reproduce_a_build_of_a_dirty_tree(tmp_path: Path) -> None:
    root = sample(tmp_path, "flit-flat")
    (root / "untracked.txt").write_text("not committed\n", encoding="utf-8")
    ctx = make_ctx(root, environ())
    manifest = build_command.build(ctx)
    assert manifest.source is not None
    assert not manifest.source.clean
    with pytest.raises(CannotReproduce, match="changes not committed") as refused:
        reproduce_command.reproduce(ctx, None)
    assert refused.value.exit_code == ExitCode.USAGE
    # reproducible = "check" in a release: a warning, and the release goes on
    assert reproduce_command.gate(ctx) == "cannot"
    strict = make_ctx(root, environ(RELEASE_REPRODUCIBLE="require"))
    with pytest.raises(CannotReproduce):
        reproduce_command.gate(strict)


@slow
def test_a_missing_commit_cannot_be_reproduced(tmp_path: Path) -> None:
    root = sample(tmp_path, "flit-flat")
    ctx = make_ctx(root, environ())
    manifest = build_command.build(ctx)
    assert manifest.source is not None
    gone = dataclasses.replace(manifest.source, commit="1" * 40)
    write_manifest(root / "dist", dataclasses.replace(manifest, source=gone))
    with pytest.raises(CannotReproduce, match="not in the git repository"):
        reproduce_command.reproduce(ctx, None)


@slow
def test_after_a_release_reproduce_against_prod_and_a_rerun_without_dist(
    tmp_path: Path, index_pair: IndexPair
) -> None:
    test, prod = index_pair
    root = sample(tmp_path, "hatchling-src")
    env = environ_for(test, prod, RELEASE_REPRODUCIBLE="require")
    ctx = make_ctx(root, env)
    assert release_command.release(ctx) == 0
    assert ctx.reporter.document["reproduce"]["reproduced"] is True  # checked before uploads
    built = load_manifest(root / "dist")

    # on a fresh runner: the commit and the manifest; the files come from the prod index
    fresh = make_ctx(root, env)
    outcome = reproduce_command.reproduce(fresh, "prod")
    assert outcome.identical
    assert {f.filename for f in outcome.files} == {f.filename for f in built.files}

    # a CI re-run that lost dist/ rebuilds the very same bytes: the release finishes
    shutil.rmtree(root / "dist")
    posts = (test.uploads, prod.uploads)
    again = make_ctx(root, env)
    assert release_command.release(again) == 0
    assert (test.uploads, prod.uploads) == posts
    assert load_manifest(root / "dist").files == built.files

    # someone else uploads a file of the version: reproduce --index prod catches it
    foreign = write_wheel(tmp_path, built.name, built.version, tag="py2-none-any")
    shutil.copy(foreign, prod.root / foreign.name)
    with pytest.raises(NotReproducible, match=foreign.name):
        reproduce_command.reproduce(make_ctx(root, env), "prod")


@pytest.mark.parametrize(
    ("mode", "dirty", "expected"),
    [
        ("check", False, "would rebuild commit"),
        ("require", False, "a difference stops the release (exit 9)"),
        ("check", True, "would not check reproducibility (changes not committed: new.py)"),
        ("require", True, CannotReproduce),
        ("off", True, 'reproducible = "off": no rebuild'),
    ],
)
def test_the_dry_run_predicts_the_reproducible_check(
    tmp_path: Path, mode: str, dirty: bool, expected: str | type[Exception]
) -> None:
    root = committed(write_project(tmp_path / "p"))
    if dirty:
        (root / "new.py").write_text("x = 1\n", encoding="utf-8")
    ctx = make_ctx(root, environ(RELEASE_REPRODUCIBLE=mode))
    if isinstance(expected, str):
        reproduce_command.dry_gate(ctx)
        assert expected in text(ctx)
    else:
        with pytest.raises(expected):
            reproduce_command.dry_gate(ctx)


@pytest.mark.parametrize(
    ("source", "why"),
    [
        (None, "records no source commit"),
        (Source(), "records no source commit"),  # built outside a git work tree
        (Source(COMMIT, False, 1, "hatchling.build"), "changes not committed"),
    ],
)
def test_reproduce_cannot_try_without_a_clean_commit(source: Source | None, why: str) -> None:
    with pytest.raises(CannotReproduce, match=why) as refused:
        require_source(_manifest(source))
    assert refused.value.exit_code == ExitCode.USAGE
    assert refused.value.fix


def test_a_file_name_from_the_index_is_saved_only_as_a_plain_name(tmp_path: Path) -> None:
    from release.errors import IndexUnavailable
    from release.indexstate import IndexFile

    hostile = IndexFile("../../evil.whl", None, None, None, False, "http://127.0.0.1:9/x")
    with pytest.raises(IndexUnavailable, match="not a plain file name"):
        download_release((hostile,), tmp_path / "in", timeout=1, cap=10)
    assert not (tmp_path / "evil.whl").exists()


@slow
def test_a_post_checkout_hook_does_not_change_the_clean_export(tmp_path: Path) -> None:
    root = sample(tmp_path, "flit-flat")
    hook = root / ".git" / "hooks" / "post-checkout"
    hook.write_text(
        "#!/bin/sh\necho 'HOOKED = True' >> nrs_flit_flat/__init__.py\n", encoding="utf-8"
    )
    hook.chmod(0o755)
    ctx = make_ctx(root, environ())
    build_command.build(ctx)
    assert reproduce_command.reproduce(ctx, None).identical


def _zip(members: dict[str, bytes], date: tuple[int, int, int, int, int, int]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, date), data)
    return buf.getvalue()


def test_the_reproduce_section_fits_80_columns() -> None:
    """Every line reproduce prints about a file that differs (the members, their aspects, a
    diff, the causes and fixes) and the note about another Python stay within 80 columns,
    wrapped like a file's line; nothing of the text is lost."""
    from release.output import WIDTH, Reporter
    from release.reprodiff import compare
    from release.reproduce import FileResult, Outcome

    name = "a_rather_long_project_name-1.0.0.dist-info/entry_points_and_more.txt"
    long_line = "x = " + ", ".join(f"'value_{i}'" for i in range(20)) + "\n"
    filename = "a_rather_long_project_name-1.0.0-cp312-cp312-manylinux_2_17_x86_64.whl"
    released = _zip(
        {name: b"a = 1\n", "pkg/_version.py": long_line.encode()}, (2024, 1, 1, 0, 0, 0)
    )
    rebuilt = _zip({name: b"a = 2\n", "pkg/_version.py": b"v = 2\n"}, (2026, 12, 5, 15, 0, 0))
    comparison = compare(filename, released, rebuilt)
    assert comparison.causes
    assert comparison.differences
    outcome = Outcome(
        "dist/",
        COMMIT,
        1_700_000_000,
        (FileResult(filename, "differs", SHA, "1" * 64, comparison),),
        1.0,
    )
    stream = io.StringIO()
    out = Reporter(stream=stream)
    manifest = dataclasses.replace(
        _manifest(Source(COMMIT, True, 1)),
        runners={"r": Runner("linux-x86_64", "cpython-3.10.99", "github: release/build run 1")},
    )
    reproduce_command._python_note(out, manifest)
    reproduce_command.report(out, outcome)
    lines = stream.getvalue().splitlines()
    assert all(len(line) <= WIDTH for line in lines), [x for x in lines if len(x) > WIDTH]
    joined = " ".join(" ".join(lines).split())
    for cause in comparison.causes:
        assert " ".join(f"fix: {cause.fix}".split()) in joined
    assert "'value_19'" in joined  # the diff's long line, wrapped, not cut


def test_a_wrapped_line_is_redacted_before_it_is_cut() -> None:
    """A token longer than a line would be cut in two by the wrapping; each half alone might
    escape redaction, so the text is redacted whole first."""
    from release import redact
    from release.output import Reporter

    token = "pypi-" + "AgEIcHlwaS5vcmc" * 12
    redact.register(token)
    stream = io.StringIO()
    out = Reporter(stream=stream)
    out.wrapped(f"the index answered: {token} is not valid", "warn", indent=4)
    out.file("demo-1.0.tar.gz", f"refused: {token} is not valid", "fail")
    shown = stream.getvalue()
    assert token[5:40] not in shown
    assert token[-30:] not in shown
    assert "is not valid" in shown


# ---------------------------------------------------------------- the rebuild beside the build
# release and rehearse start the reproducible check's rebuild at the same time as their build:
# what it may be used for, and that its verdict still comes before any upload.

EPOCH = 1_700_000_000


def _stamped_zip(stamp: tuple[int, int, int, int, int, int]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(zipfile.ZipInfo("a.py", date_time=stamp), "a = 1\n")
    return buffer.getvalue()


def _tar_gz(member_mtime: int, gzip_mtime: int) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tf:
        info = tarfile.TarInfo("demo-1.0/PKG-INFO")
        info.size, info.mtime = 3, member_mtime
        tf.addfile(info, io.BytesIO(b"abc"))
    return gzip.compress(raw.getvalue(), mtime=gzip_mtime)


def _utc(epoch: int) -> tuple[int, int, int, int, int, int]:
    t = time.gmtime(epoch)
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)


def test_stamped_after_reads_every_time_an_archive_carries() -> None:
    assert not stamped_after("d-1.0-py3-none-any.whl", _stamped_zip(_utc(EPOCH)), EPOCH)
    assert stamped_after("d-1.0-py3-none-any.whl", _stamped_zip(_utc(EPOCH + 2)), EPOCH)
    assert calendar.timegm((*_utc(EPOCH + 2), 0, 0, 0)) == EPOCH + 2
    assert not stamped_after("d-1.0.tar.gz", _tar_gz(EPOCH, EPOCH), EPOCH)
    assert not stamped_after("d-1.0.tar.gz", _tar_gz(EPOCH - 5, 0), EPOCH)  # gzip: no time
    assert stamped_after("d-1.0.tar.gz", _tar_gz(EPOCH + 1, EPOCH), EPOCH)  # a member
    assert stamped_after("d-1.0.tar.gz", _tar_gz(EPOCH, EPOCH + 1), EPOCH)  # the header
    assert stamped_after("d-1.0.tar.gz", b"not an archive", EPOCH)  # unread: stamped


def _release(requirements: dict[str, str]) -> Manifest:
    files = (
        DistFile("demo-1.0.tar.gz", "0" * 64, 1, "sdist"),
        DistFile("demo-1.0-py3-none-any.whl", "0" * 64, 1, "wheel"),
    )
    source = Source(COMMIT, True, EPOCH, "flit_core.buildapi", requirements)
    return Manifest("demo", "1.0", files, source=source)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({}, None),
        ({"commit": "1" * 40}, "not 111111111111"),
        ({"source_date_epoch": EPOCH + 1}, "another SOURCE_DATE_EPOCH"),
        ({"kind": "wheel"}, "other kinds of files"),
        ({"requirements": {"flit-core": "3.9.0"}}, "resolved otherwise (flit-core)"),
        ({"requirements": {"flit-core": "3.10.1", "x": "1"}}, "resolved otherwise (x)"),
    ],
)
def test_a_rebuild_beside_the_build_is_used_only_when_it_is_the_one_asked_for(
    tmp_path: Path, change: dict[str, object], why: str | None
) -> None:
    """It was started before the build recorded its source: the commit, SOURCE_DATE_EPOCH,
    the kind of files and the build requirements it resolved must all be the build's (a rebuild
    afterwards is pinned to the build's requirements)."""
    made = Rebuilt(COMMIT, EPOCH, "both", {"flit-core": "3.10.1"}, tmp_path, {}, 1.0)
    made = dataclasses.replace(made, **change)  # type: ignore[arg-type]
    found = fits(made, _release({"flit-core": "3.10.1"}))
    assert found is None if why is None else why in (found or "")


def _stamped_copy(wheel: Path, target: Path, stamp: tuple[int, int, int, int, int, int]) -> None:
    with zipfile.ZipFile(wheel) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            copy = zipfile.ZipInfo(info.filename, date_time=stamp)
            copy.compress_type, copy.external_attr = info.compress_type, info.external_attr
            new.writestr(copy, old.read(info.filename))


@slow
def test_same_bytes_stamped_after_the_epoch_are_rebuilt_once_more(tmp_path: Path) -> None:
    """Two builds at the same time can agree on the clock they leak: a file the rebuild beside
    the build matched, but stamped later than SOURCE_DATE_EPOCH, is rebuilt again afterwards
    (here that later rebuild, a real one, gives the backend's own bytes: not reproduced)."""
    root = sample(tmp_path, "flit-flat")
    ctx = make_ctx(root, environ())
    manifest = build_command.build(ctx)
    assert manifest.source is not None
    dist = root / "dist"
    (wheel,) = dist.glob("*.whl")
    later = _utc(manifest.source.source_date_epoch + 3600)  # type: ignore[operator]
    _stamped_copy(wheel, tmp_path / wheel.name, later)
    shutil.move(tmp_path / wheel.name, wheel)
    sha, size = hash_file(wheel)
    files = tuple(
        dataclasses.replace(f, sha256=sha, size=size) if f.filename == wheel.name else f
        for f in manifest.files
    )
    write_manifest(dist, dataclasses.replace(manifest, files=files))
    # the rebuild beside the build: the very bytes of dist/ (what the same second gives)
    outdir = tmp_path / "beside"
    outdir.mkdir()
    for f in load_manifest(dist).files:
        shutil.copy(dist / f.filename, outdir / f.filename)
    made = Rebuilt(
        manifest.source.commit,
        manifest.source.source_date_epoch,
        "both",
        dict(manifest.source.requirements),
        outdir,
        {p.name: p for p in outdir.iterdir()},
        0.5,
    )
    done: Future[Rebuilt | None] = Future()
    done.set_result(made)
    with pytest.raises(NotReproducible, match=wheel.name):
        reproduce_command.reproduce(ctx, None, reproduce_command.Beside(done))
    assert "stamped later than SOURCE_DATE_EPOCH" in " ".join(text(ctx).split())
    assert ctx.reporter.document["reproduce"]["beside_build"] is False  # the later rebuild's


def _hooked(tmp_path: Path) -> Path:
    """A committed hatchling project whose build hook writes the clock into the wheel."""
    root = tmp_path / "hooked"
    write_sample(SAMPLE_BY_ID["hatchling-src"], root)
    (root / "hatch_build.py").write_text(HOOK, encoding="utf-8")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + "\n[tool.hatch.build.targets.wheel.hooks.custom]\n",
        encoding="utf-8",
    )
    return committed(root)


@slow
def test_require_stops_before_any_upload_when_the_rebuild_after_the_build_differs(
    tmp_path: Path,
    index_pair: IndexPair,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A build hook writes the clock into the wheel: the rebuild gives other bytes; under
    "require" the release ends with exit 9 and nothing is uploaded to either index; the
    reproduce section is printed whole before it. "require" rebuilds after the build, not
    beside it: two builds at the same time could agree on the clock they write."""
    test, prod = index_pair
    root = _hooked(tmp_path)
    for key, value in environ_for(test, prod, RELEASE_REPRODUCIBLE="require").items():
        monkeypatch.setenv(key, value)
    code = cli.main(["--root", str(root), "release", "--json"])
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert code == ExitCode.NOT_REPRODUCIBLE == doc["exit_code"]
    assert (test.uploads, prod.uploads) == (0, 0)
    assert test.files() == []
    assert prod.files() == []
    found = doc["result"]["reproduce"]
    assert found["beside_build"] is False  # require: after the build, not beside it
    assert not found["reproduced"]
    assert "nrs_hatchling_src/_built_at.py" in doc["error"]["message"]
    timings = doc["result"]["timings"]
    assert {"build", "reproduce"} <= set(timings)
    assert "reproduce" not in doc["result"].get("timings_beside", {})
    log = captured.err
    order = [log.index(s) for s in ("== build:", "== reproduce:", "NOT reproduced")]
    assert order == sorted(order)
    assert "== upload_test" not in log


@slow
def test_require_stops_a_rehearsal_before_its_first_upload_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rehearsal's gate is the release's: under "require" a rebuild that differs ends it
    with exit 9 before anything is sent to its local test index."""
    root = _hooked(tmp_path)
    for key, value in environ(RELEASE_REPRODUCIBLE="require").items():
        monkeypatch.setenv(key, value)
    code = cli.main(["--root", str(root), "rehearse", "--json"])
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert code == ExitCode.NOT_REPRODUCIBLE == doc["exit_code"]
    assert doc["result"]["reproduce"]["beside_build"] is False
    assert "uploads" not in doc["result"]
    assert "== reproduce:" in captured.err
    assert "== upload_test" not in captured.err


SLOW_REBUILD_HOOK = """\
import os
import time
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

MARKS = Path({marks!r})


class CustomBuildHook(BuildHookInterface):
    \"\"\"The release's own build fails; the rebuild of the commit (in a clean checkout of its
    own, under nox-release-reproduce-) says it started, then takes long.\"\"\"

    def initialize(self, version, build_data):
        if "nox-release-reproduce-" not in self.root:
            raise RuntimeError("the release's own build fails here")
        (MARKS / "started").write_text(str(os.getpid()))
        time.sleep(60)
        (MARKS / "finished").write_text("the rebuild ran to its end")
"""


@slow
def test_a_failed_build_ends_the_rebuild_beside_it_instead_of_waiting_for_it(
    tmp_path: Path, index_pair: IndexPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build fails while the rebuild beside it is still running: the failure is reported
    once the rebuild's processes are ended, not after the rebuild has run to its end."""
    from release.errors import DistError

    test, prod = index_pair
    marks = tmp_path / "marks"
    marks.mkdir()
    root = tmp_path / "slow"
    write_sample(SAMPLE_BY_ID["hatchling-src"], root)
    (root / "hatch_build.py").write_text(
        SLOW_REBUILD_HOOK.format(marks=str(marks)), encoding="utf-8"
    )
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + "\n[tool.hatch.build.hooks.custom]\n", encoding="utf-8"
    )
    committed(root)
    ctx = make_ctx(root, environ_for(test, prod, RELEASE_REPRODUCIBLE="check"))
    original = build_command.build

    def build_once_the_rebuild_runs(ctx: object, *args: object) -> Manifest:
        for _ in range(1200):  # the rebuild's hook is running (at most 60 s)
            if (marks / "started").exists():
                break
            time.sleep(0.05)
        return original(ctx, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(release_command, "build", build_once_the_rebuild_runs)
    with pytest.raises(DistError, match="own build fails here"):
        release_command.release(ctx)
    assert (marks / "started").exists()  # the rebuild was running beside the build
    assert not (marks / "finished").exists()  # and was ended, not waited for
    status = Path("/proc") / (marks / "started").read_text() / "status"
    if status.parent.parent.is_dir():  # Linux: the hook's process is gone (or a zombie)
        assert not status.exists() or "\nState:\tZ" in status.read_text()
    assert (test.uploads, prod.uploads) == (0, 0)

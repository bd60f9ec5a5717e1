"""Every sample the tests and the benchmarks write: projects and distribution files.

* :func:`write_project`: the small setuptools project (src layout) most tests release
  (``make_project`` in ``tests/conftest.py``, the fault tests, the release benchmark);
  :func:`write_c_extension_project`: the same with a C extension (compiled projects, PyPI's
  platform-tag rule).
* :data:`SAMPLES` / :func:`write_sample`: one project per common build backend and layout, the
  smallest realistic project a maintainer would have: a package with a function, a console
  script, no dependencies (so a rehearsal needs only the backend from the pip index).
* :func:`write_wheel`, :func:`write_sdist`, :func:`many_wheels`, :func:`big_wheel`: valid
  distribution files written directly (building with ``build`` costs seconds per file; the
  tests need many small variants, the benchmarks many or huge files).
"""

from __future__ import annotations

__all__ = [
    "COMMENTED_PYPROJECT",
    "SAMPLES",
    "Sample",
    "big_wheel",
    "git",
    "many_wheels",
    "write_c_extension_project",
    "write_project",
    "write_sample",
    "write_sdist",
    "write_wheel",
]

import base64
import dataclasses
import hashlib
import io
import os
import subprocess
import tarfile
import textwrap
import zipfile
from collections.abc import Sequence
from pathlib import Path

from packaging.utils import canonicalize_name

# --- the project most tests release -------------------------------------------------------------


def write_project(
    root: Path,
    name: str = "demo-pkg",
    version: str = "1.0.0",
    *,
    module: str | None = None,
    extra_release: str = "",
    dependencies: Sequence[str] = (),
    build_isolation: bool = False,
) -> Path:
    """A small setuptools project (src layout, a README, ``__version__``) in ``root``.

    ``[tool.release]`` gets ``build-isolation = false`` unless ``build_isolation`` (the tests
    build with the test environment's setuptools; the benchmarks build as users do), then
    ``extra_release``.
    """
    mod = module or name.replace("-", "_").replace(".", "_").lower()
    (root / "src" / mod).mkdir(parents=True, exist_ok=True)
    (root / "src" / mod / "__init__.py").write_text(
        f'"""Sample package {name}."""\n__version__ = "{version}"\n', encoding="utf-8"
    )
    (root / "README.md").write_text(f"# {name}\n\nA sample project.\n", encoding="utf-8")
    deps = ", ".join(f'"{d}"' for d in dependencies)
    isolation = "" if build_isolation else "build-isolation = false\n"
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [build-system]
            requires = ["setuptools>=61"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{name}"
            version = "{version}"
            description = "A sample project for nox-release's tests"
            readme = "README.md"
            dependencies = [{deps}]

            [tool.release]
            """
        )
        + isolation
        + extra_release,
        encoding="utf-8",
    )
    return root


_SPEED_C = textwrap.dedent(
    """\
    #define PY_SSIZE_T_CLEAN
    #include <Python.h>

    static PyObject *add(PyObject *self, PyObject *args) {
        long a, b;
        if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;
        return PyLong_FromLong(a + b);
    }

    static PyMethodDef methods[] = {{"add", add, METH_VARARGS, "a + b"}, {NULL, NULL, 0, NULL}};
    static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods};
    PyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&module); }
    """
)


def write_c_extension_project(
    root: Path, name: str = "cext-demo", version: str = "1.0.0", *, extra_release: str = ""
) -> Path:
    """A setuptools project (src layout) with one C extension, ``<module>._speed.add(a, b)``
    (a C compiler builds it); ``[tool.release]`` gets ``build-isolation = false``, then
    ``extra_release``."""
    module = name.replace("-", "_")
    package = root / "src" / module
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(
        "from ._speed import add\n\n__all__ = ['add']\n", encoding="utf-8"
    )
    (package / "_speed.c").write_text(_SPEED_C, encoding="utf-8")
    (root / "README.md").write_text(f"# {name}\n\nA C extension.\n", encoding="utf-8")
    (root / "setup.py").write_text(
        "from setuptools import Extension, setup\n\n"
        f'setup(ext_modules=[Extension("{module}._speed", ["src/{module}/_speed.c"])])\n',
        encoding="utf-8",
    )
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [build-system]
            requires = ["setuptools>=61"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{name}"
            version = "{version}"
            description = "A C extension for nox-release's tests"
            readme = "README.md"

            [tool.setuptools.packages.find]
            where = ["src"]

            [tool.release]
            build-isolation = false
            """
        )
        + extra_release,
        encoding="utf-8",
    )
    return root


# --- distribution files, written directly ----------------------------------------------------


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def write_wheel(
    folder: Path, name: str, version: str, *, payload: str = "", tag: str = "py3-none-any"
) -> Path:
    """A minimal valid wheel (metadata 2.1, RECORD with hashes); its bytes change only with
    ``payload`` (fixed timestamps), so the same call twice gives the same bytes."""
    dist = canonicalize_name(name).replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    path = folder / f"{dist}-{version}-{tag}.whl"
    files = {
        f"{dist}/__init__.py": f'__version__ = "{version}"\n{payload}'.encode(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: nox-release-tests\nRoot-Is-Purelib: true\nTag: {tag}\n"
        ).encode(),
    }
    record = [_record_line(n, data) for n, data in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in files.items():
            zf.writestr(zipfile.ZipInfo(n, date_time=(2020, 1, 1, 0, 0, 0)), data)
    return path


def write_sdist(
    folder: Path, name: str, version: str, *, payload: str = "", stem: str | None = None
) -> Path:
    """A minimal sdist (``<stem>-<version>.tar.gz`` with PKG-INFO); bytes change with ``payload``.

    ``stem`` defaults to the PEP 625 normalised name; pass e.g. ``"Demo.Pkg"`` for an old-style one.
    """
    stem = stem or canonicalize_name(name).replace("-", "_")
    base = f"{stem}-{version}"
    path = folder / f"{base}.tar.gz"
    folder.mkdir(parents=True, exist_ok=True)
    members = {
        f"{base}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{base}/setup.py": f"# {payload}\n",
    }
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tf:
        for n, text in members.items():
            data = text.encode()
            ti = tarfile.TarInfo(n)
            ti.size = len(data)
            ti.mtime = 1577836800
            tf.addfile(ti, io.BytesIO(data))
    return path


def many_wheels(folder: Path, name: str, version: str, count: int) -> list[Path]:
    """``count`` wheels of one release, told apart by their build tag (all valid names)."""
    return [
        write_wheel(folder, name, version, tag=f"{i}-py3-none-any") for i in range(1, count + 1)
    ]


def big_wheel(folder: Path, name: str, version: str, size: int) -> Path:
    """A wheel of about ``size`` bytes of random data (stored, not compressed), written in
    pieces so that making it costs no memory either."""
    dist = canonicalize_name(name).replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    path = folder / f"{dist}-{version}-py3-none-any.whl"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: big\n".encode()
    wheel = b"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = []
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        digest = hashlib.sha256()
        written = 0
        with zf.open(f"{dist}/blob.bin", "w", force_zip64=True) as out:
            while written < size:
                piece = os.urandom(min(1 << 20, size - written))
                digest.update(piece)
                out.write(piece)
                written += len(piece)
        b64 = base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()
        record.append(f"{dist}/blob.bin,sha256={b64},{written}")
        for arcname, data in ((f"{info}/METADATA", meta), (f"{info}/WHEEL", wheel)):
            zf.writestr(arcname, data)
            record.append(_record_line(arcname, data))
        record.append(f"{info}/RECORD,,")
        zf.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return path


# --- one project per build backend -----------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Sample:
    id: str  # pytest id
    backend: str  # the build-system's requirement, for the test's name and the README
    layout: str  # "flat" or "src"
    name: str  # [project].name (or [tool.poetry].name)
    module: str  # the import package
    version: str  # what the built files must carry
    files: dict[str, str]  # relative path -> text
    git_tag: str = ""  # make the folder a git repository with this tag (dynamic versions)
    # TOML that `init` must advise (its backend would take release/ for a package of the
    # project); the test appends it after init, as the maintainer would.
    fix: str = ""
    package_file: str = ""  # the wheel entry that proves the package shipped (flat layouts)

    @property
    def wheel_prefix(self) -> str:
        return f"{self.name.replace('-', '_')}-{self.version}-"

    @property
    def package_entry(self) -> str:
        return self.package_file or f"{self.module}/__init__.py"


def _package(module: str, version_line: str = "") -> str:
    return textwrap.dedent(
        f'''\
        """A sample package for nox-release's backend tests."""
        {version_line}

        def main() -> None:
            print("hello from {module}")
        '''
    )


def _sample(
    id: str,
    backend: str,
    layout: str,
    build_system: str,
    project: str,
    *,
    extra: dict[str, str] | None = None,
    version: str = "0.1.0",
    git_tag: str = "",
    package_init: str | None = None,
    fix: str = "",
) -> Sample:
    name = f"nrs-{id}"  # nox-release sample: names no one would publish
    module = name.replace("-", "_")
    base = "src/" if layout == "src" else ""
    files = {
        "pyproject.toml": textwrap.dedent(build_system).lstrip()
        + "\n"
        + textwrap.dedent(project).lstrip().format(name=name, module=module, version=version),
        f"{base}{module}/__init__.py": package_init
        if package_init is not None
        else _package(module),
        "README.md": f"# {name}\n\nA sample project for nox-release's backend tests.\n",
        "tests/test_it.py": f"import {module}\n\n\ndef test_main():\n    {module}.main()\n",
    }
    files.update(extra or {})
    return Sample(
        id, backend, layout, name, module, version, files, git_tag, fix.format(module=module)
    )


OWN_NOXFILE = '''\
import nox


@nox.session
def tests(session):
    """Run the tests."""
'''

_PROJECT = """\
[project]
name = "{name}"
version = "{version}"
description = "A sample project"
readme = "README.md"
requires-python = ">=3.10"

[project.scripts]
{name} = "{module}:main"
"""

SAMPLES: tuple[Sample, ...] = (
    _sample(
        "setuptools-flat",
        "setuptools",
        "flat",
        """
        [build-system]
        requires = ["setuptools>=77"]
        build-backend = "setuptools.build_meta"
        """,
        _PROJECT,
        # automatic discovery would find release/ beside the package and refuse to build
        fix='[tool.setuptools.packages.find]\ninclude = ["{module}*"]\n',
    ),
    _sample(
        "setuptools-src",
        "setuptools",
        "src",
        """
        [build-system]
        requires = ["setuptools>=77"]
        build-backend = "setuptools.build_meta"
        """,
        _PROJECT,
    ),
    # A legacy project: setup.py carries the version and the packages; pyproject.toml names it.
    _sample(
        "setuptools-setup-py",
        "setuptools (setup.py)",
        "flat",
        """
        [build-system]
        requires = ["setuptools>=77"]
        build-backend = "setuptools.build_meta"
        """,
        """
        [project]
        name = "{name}"
        dynamic = ["version", "scripts"]
        description = "A sample project"
        readme = "README.md"
        """,
        extra={
            "setup.py": textwrap.dedent(
                """\
                from setuptools import setup

                setup(
                    version="0.1.0",
                    packages=["nrs_setuptools_setup_py"],
                    entry_points={
                        "console_scripts": [
                            "nrs-setuptools-setup-py = nrs_setuptools_setup_py:main",
                        ]
                    },
                )
                """
            )
        },
    ),
    _sample(
        "hatchling-src",
        "hatchling",
        "src",
        """
        [build-system]
        requires = ["hatchling>=1.26"]
        build-backend = "hatchling.build"
        """,
        _PROJECT
        + """
[tool.release]
smoke-command = "{name}"
""",
    ),
    _sample(
        "hatchling-flat",
        "hatchling",
        "flat",
        """
        [build-system]
        requires = ["hatchling>=1.26"]
        build-backend = "hatchling.build"
        """,
        _PROJECT,
        # A project with its own noxfile: init must leave it alone.
        extra={"noxfile.py": OWN_NOXFILE},
    ),
    _sample(
        "flit-flat",
        "flit-core",
        "flat",
        """
        [build-system]
        requires = ["flit_core>=3.11,<4"]
        build-backend = "flit_core.buildapi"
        """,
        _PROJECT,
        package_init=_package("nrs_flit_flat", '__version__ = "0.1.0"'),
    ),
    _sample(
        "pdm-src",
        "pdm-backend",
        "src",
        """
        [build-system]
        requires = ["pdm-backend>=2.4"]
        build-backend = "pdm.backend"
        """,
        _PROJECT,
    ),
    _sample(
        "pdm-flat",
        "pdm-backend",
        "flat",
        """
        [build-system]
        requires = ["pdm-backend>=2.4"]
        build-backend = "pdm.backend"
        """,
        _PROJECT,
        # pdm-backend would ship release/ in the wheel as a top-level package
        fix='[tool.pdm.build]\nincludes = ["{module}"]\n',
    ),
    _sample(
        "poetry-src",
        "poetry-core",
        "src",
        """
        [build-system]
        requires = ["poetry-core>=2.0"]
        build-backend = "poetry.core.masonry.api"
        """,
        _PROJECT
        + """
[tool.poetry]
packages = [{{ include = "{module}", from = "src" }}]
""",
    ),
    _sample(
        "scm-src",
        "setuptools-scm",
        "src",
        """
        [build-system]
        requires = ["setuptools>=77", "setuptools-scm>=8"]
        build-backend = "setuptools.build_meta"
        """,
        """
        [project]
        name = "{name}"
        dynamic = ["version"]
        description = "A sample project"
        readme = "README.md"
        requires-python = ">=3.10"

        [project.scripts]
        {name} = "{module}:main"

        [tool.setuptools_scm]
        """,
        # tagged v1.2.3 before init; init's next steps commit its files and tag v1.2.4
        version="1.2.4",
        git_tag="v1.2.3",
    ),
    _sample(
        "hatch-vcs-src",
        "hatchling + hatch-vcs",
        "src",
        """
        [build-system]
        requires = ["hatchling>=1.26", "hatch-vcs"]
        build-backend = "hatchling.build"
        """,
        """
        [project]
        name = "{name}"
        dynamic = ["version"]
        description = "A sample project"
        readme = "README.md"
        requires-python = ">=3.10"

        [tool.hatch.version]
        source = "vcs"
        """,
        version="0.3.1",
        git_tag="0.3.0",  # no v: init's tag follows the project's spelling
    ),
    # An older project: setup.cfg holds only tool settings, setuptools discovers the package.
    _sample(
        "setuptools-flat-setupcfg",
        "setuptools",
        "flat",
        """
        [build-system]
        requires = ["setuptools>=77"]
        build-backend = "setuptools.build_meta"
        """,
        _PROJECT,
        extra={"setup.cfg": "[flake8]\nmax-line-length = 100\n"},
        fix='[tool.setuptools.packages.find]\ninclude = ["{module}*"]\n',
    ),
    Sample(
        "namespace-flat",
        "setuptools",
        "flat",
        "nrs-namespace-flat",
        "nrs_ns.flat",
        "2.0.0",
        {
            "pyproject.toml": textwrap.dedent(
                """\
                [build-system]
                requires = ["setuptools>=77"]
                build-backend = "setuptools.build_meta"

                [project]
                name = "nrs-namespace-flat"
                version = "2.0.0"
                description = "A PEP 420 namespace package, jaraco.functools style"
                readme = "README.md"
                """
            ),
            "nrs_ns/flat/__init__.py": _package("nrs_ns.flat"),
            "README.md": "# nrs-namespace-flat\n\nA namespace package sample.\n",
        },
        # the namespace's folder, not a guess from the name: the fix keeps nrs_ns.flat
        fix='[tool.setuptools.packages.find]\ninclude = ["nrs_ns*"]\n',
        package_file="nrs_ns/flat/__init__.py",
    ),
    # pbr (OpenStack's): setup.py + setup.cfg, the version from git tags spelt without a "v";
    # its sdist is every file git tracks, its wheel the packages setup.cfg names
    Sample(
        "pbr-flat",
        "pbr",
        "flat",
        "nrs-pbr-flat",
        "nrs_pbr_flat",
        "1.0.1",
        {
            "pyproject.toml": textwrap.dedent(
                """\
                [build-system]
                requires = ["pbr>=6", "setuptools>=77"]
                build-backend = "pbr.build"
                """
            ),
            "setup.py": "import setuptools\n\nsetuptools.setup(pbr=True)\n",
            "setup.cfg": textwrap.dedent(
                """\
                [metadata]
                name = nrs-pbr-flat
                summary = A pbr sample
                description_file = README.md
                long_description_content_type = text/markdown
                author = nox-release
                author_email = tests@nox-release.invalid

                [files]
                packages = nrs_pbr_flat
                """
            ),
            "nrs_pbr_flat/__init__.py": _package("nrs_pbr_flat"),
            "README.md": "# nrs-pbr-flat\n\nA pbr sample.\n",
        },
        "1.0.0",  # tagged before init; init's next steps commit its files and tag 1.0.1
    ),
    Sample(
        "setup-py-only",
        "setuptools (setup.py, no pyproject.toml)",
        "flat",
        "nrs-setup-py-only",
        "nrs_setup_py_only",
        "0.5.0",
        {
            "setup.py": textwrap.dedent(
                """\
                from setuptools import setup

                setup(
                    name="nrs-setup-py-only",
                    version="0.5.0",
                    description="A setup.py-only sample",
                    long_description="A setup.py-only sample for nox-release.",
                    long_description_content_type="text/plain",
                    packages=["nrs_setup_py_only"],
                )
                """
            ),
            "nrs_setup_py_only/__init__.py": _package("nrs_setup_py_only"),
        },
    ),
)


def git(root: Path, *args: str) -> None:
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=nox-release tests",
            "-c",
            "user.email=tests@nox-release.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "tag.gpgsign=false",
            *args,
        ],
        cwd=root,
        check=True,
        capture_output=True,
    )


def write_sample(sample: Sample, root: Path) -> Path:
    """Write ``sample`` into ``root`` (created); a git repository when its version needs one."""
    root.mkdir(parents=True)
    for relative, text in sample.files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if sample.git_tag:
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "sample project")
        git(root, "tag", "-a", sample.git_tag, "-m", sample.git_tag)
    return root


# init's sample: a hatchling project whose comments and tables init must keep, byte for byte.
COMMENTED_PYPROJECT = """\
# The sample's own comment, which must survive.
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "sample"   # aligned comment
version = "1.0"

[tool.ruff]
line-length = 88

# a comment between tables
[dependency-groups]
dev = ["pytest"]
"""

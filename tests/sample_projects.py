"""Sample projects, one per common build backend and layout, written by the suite.

Each is the smallest realistic project a maintainer would have: a package with a function, a
console script, no dependencies (so a rehearsal needs only the backend from the pip index).
:func:`write_sample` writes one into a folder and returns what a release of it must contain.
"""

from __future__ import annotations

__all__ = ["SAMPLES", "Sample", "commit_and_tag", "write_sample"]

import dataclasses
import subprocess
import textwrap
from pathlib import Path


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

    @property
    def wheel_prefix(self) -> str:
        return f"{self.module}-{self.version}-"


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
        version="1.2.3",
        git_tag="v1.2.3",
    ),
)


def _git(root: Path, *args: str) -> None:
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
        _git(root, "init", "-q", "-b", "main")
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", "sample project")
    return root


def commit_and_tag(sample: Sample, root: Path) -> None:
    """After ``init``: commit what it added and tag the release, as a maintainer would (a
    dirty tree would give setuptools-scm a local version, which no index accepts)."""
    if sample.git_tag:
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", "adopt nox-release")
        _git(root, "tag", "-a", sample.git_tag, "-m", sample.git_tag)

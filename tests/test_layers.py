"""The layer map of ``release/__init__.py`` holds: the pure decisions load no network code."""

from __future__ import annotations

import subprocess
import sys

import pytest

import release

PURE = (
    "guard",
    "indexstate",
    "versions",
    "pypi_rules",
    "diagnose",
    "tokens",
    "claims",
    "project",
    "vcsversion",
    "endpoints",
    "errors",
    "redact",
    "childenv",
    "paths",
    "destinations",
    "merge",
    "matrix",
    "terminal",
)
# The HTTP stack, and nox-release's own I/O, commands and CLI.
FORBIDDEN = (
    "requests",
    "urllib3",
    "http.client",
    "pypi_simple",
    "twine",
    "release.http",
    "release.index",
    "release.upload",
    "release.verify",
    "release.credentials",
    "release.trusted",
    "release.localindex",
    "release.commands",
    "release.cli",
)


@pytest.mark.parametrize("module", PURE)
def test_a_pure_module_loads_no_network_code(module: str) -> None:
    code = (
        f"import sys, release.{module}\n"
        f"loaded = sorted(m for m in {FORBIDDEN!r} if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr


def test_the_map_names_every_module() -> None:
    from pathlib import Path

    doc = release.__doc__ or ""
    modules = sorted(p.name for p in Path(release.__file__).parent.glob("*.py"))
    missing = [m for m in modules if m != "__init__.py" and m not in doc]
    assert not missing, f"add them to the layer map in release/__init__.py: {missing}"

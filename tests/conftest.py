"""Shared fixtures: real pypiserver indexes on 127.0.0.1 and sample projects on disk."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from release import redact
from release.localindex import LocalIndex
from tests.devpi import devpi_index, devpi_server  # noqa: F401 (fixtures)
from tests.sample_projects import write_project

# The fast default suite: tests marked `slow` run only with --run-slow (tests/slow.py).
pytest_plugins = ["tests.slow", "pytester"]

# Tests never reach a real index: if a default URL slipped through, fail instead of uploading.
os.environ.setdefault("RELEASE_TEST_UPLOAD_URL", "http://127.0.0.1:9/unset-test-upload/")
os.environ.setdefault("RELEASE_TEST_INDEX_URL", "http://127.0.0.1:9/unset-test-simple/")
os.environ.setdefault("RELEASE_PROD_UPLOAD_URL", "http://127.0.0.1:9/unset-prod-upload/")
os.environ.setdefault("RELEASE_PROD_INDEX_URL", "http://127.0.0.1:9/unset-prod-simple/")
# Output is compared as plain text: colour only where a test asks for it (FORCE_COLOR in CI
# would otherwise colour every captured line).
os.environ.pop("FORCE_COLOR", None)
os.environ.pop("NO_COLOR", None)


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    """Each test starts with an empty secret registry (a process keeps its own until it ends)."""
    redact.clear()
    yield
    redact.clear()


@pytest.fixture
def local_index() -> Iterator[LocalIndex]:
    """A fresh, empty pypiserver on 127.0.0.1 (in-process, ephemeral port)."""
    with LocalIndex() as index:
        yield index


IndexPair = tuple[LocalIndex, LocalIndex]


@pytest.fixture
def index_pair() -> Iterator[IndexPair]:
    """Two fresh local indexes: (test, prod)."""
    with LocalIndex() as test, LocalIndex() as prod:
        yield test, prod


ProjectFactory = Callable[..., Path]


@pytest.fixture
def make_project(tmp_path: Path) -> ProjectFactory:
    """Write a small setuptools project (src layout) and return its root.

    ``make_project(name="demo-pkg", version="1.0.0", extra_release="smoke-command = '...'")``
    """

    def factory(
        name: str = "demo-pkg",
        version: str = "1.0.0",
        *,
        module: str | None = None,
        extra_release: str = "",
        dependencies: tuple[str, ...] = (),
        folder: str = "project",
    ) -> Path:
        return write_project(
            tmp_path / folder,
            name,
            version,
            module=module,
            extra_release=extra_release,
            dependencies=dependencies,
        )

    return factory

"""Index settings for offline tests: PyPI, TestPyPI (their real endpoints, never contacted) and a
private index on loopback."""

from __future__ import annotations

__all__ = ["PRIVATE", "PYPI", "TESTPYPI", "index"]

from release import endpoints
from release.config import IndexName, IndexSettings


def index(name: IndexName, kind: str) -> IndexSettings:
    if kind == "pypi":
        return IndexSettings(name, endpoints.PROD_UPLOAD_URL, endpoints.PROD_INDEX_URL, "__token__")
    if kind == "testpypi":
        return IndexSettings(name, endpoints.TEST_UPLOAD_URL, endpoints.TEST_INDEX_URL, "__token__")
    return IndexSettings(
        name, "http://127.0.0.1:8080/", "http://127.0.0.1:8080/simple/", "__token__"
    )


PYPI = index("prod", "pypi")
TESTPYPI = index("test", "testpypi")
PRIVATE = index("test", "private")

"""Where PyPI and TestPyPI live: one place.

The URLs are twine's (``DEFAULT_REPOSITORY``, ``TEST_REPOSITORY``) and pypi-simple's
(``PYPI_SIMPLE_ENDPOINT``) constants, spelled out so that importing this module (the pure guard
does) loads no HTTP stack; tests/test_indexstate.py checks they still equal those libraries'.
"""

from __future__ import annotations

__all__ = [
    "PROD_INDEX_URL",
    "PROD_UPLOAD_URL",
    "TEST_INDEX_URL",
    "TEST_UPLOAD_URL",
    "Warehouse",
    "host_of",
    "strip_credentials",
    "warehouse_of",
]

import enum
from urllib.parse import urlsplit, urlunsplit

PROD_UPLOAD_URL = "https://upload.pypi.org/legacy/"  # twine.utils.DEFAULT_REPOSITORY
PROD_INDEX_URL = "https://pypi.org/simple/"  # pypi_simple.PYPI_SIMPLE_ENDPOINT
TEST_UPLOAD_URL = "https://test.pypi.org/legacy/"  # twine.utils.TEST_REPOSITORY
TEST_INDEX_URL = "https://test.pypi.org/simple/"


def host_of(url: str) -> str:
    """The lower-case host name of ``url`` (no port, no credentials)."""
    return (urlsplit(url).hostname or "").lower()


class Warehouse(enum.Enum):
    """The two public Warehouse instances; anything else is a private index."""

    PYPI = "pypi"
    TESTPYPI = "testpypi"


# A token's macaroon location is the host of the index's website, which is also the host of
# the simple index (pypi.org / test.pypi.org); uploads go to upload.pypi.org / test.pypi.org.
_HOSTS: dict[str, Warehouse] = {
    host_of(PROD_UPLOAD_URL): Warehouse.PYPI,
    host_of(PROD_INDEX_URL): Warehouse.PYPI,
    host_of(TEST_UPLOAD_URL): Warehouse.TESTPYPI,
    host_of(TEST_INDEX_URL): Warehouse.TESTPYPI,
}
PYPI_HOST: str = host_of(PROD_INDEX_URL)
TESTPYPI_HOST: str = host_of(TEST_INDEX_URL)


def warehouse_of(url: str) -> Warehouse | None:
    """Which public Warehouse ``url`` belongs to, or None for a private/local index."""
    return _HOSTS.get(host_of(url))


def strip_credentials(url: str) -> str:
    """``url`` without ``user:password@``: safe to print."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    netloc = parts.hostname or ""
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

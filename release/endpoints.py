"""Where PyPI and TestPyPI live: one place, built from twine's and pypi-simple's constants."""

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

from pypi_simple import PYPI_SIMPLE_ENDPOINT
from twine.utils import DEFAULT_REPOSITORY, TEST_REPOSITORY

PROD_UPLOAD_URL: str = DEFAULT_REPOSITORY
PROD_INDEX_URL: str = PYPI_SIMPLE_ENDPOINT
TEST_UPLOAD_URL: str = TEST_REPOSITORY
_test = urlsplit(TEST_REPOSITORY)
TEST_INDEX_URL: str = urlunsplit((_test.scheme, _test.netloc, "/simple/", "", ""))


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

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
    "TOKEN_USERNAME",
    "Warehouse",
    "host_of",
    "normalized_url",
    "same_url",
    "site_url",
    "strip_credentials",
    "url_problem",
    "warehouse_of",
]

import enum
import ipaddress
import re
from urllib.parse import unquote, urlsplit, urlunsplit

PROD_UPLOAD_URL = "https://upload.pypi.org/legacy/"  # twine.utils.DEFAULT_REPOSITORY
PROD_INDEX_URL = "https://pypi.org/simple/"  # pypi_simple.PYPI_SIMPLE_ENDPOINT
TEST_UPLOAD_URL = "https://test.pypi.org/legacy/"  # twine.utils.TEST_REPOSITORY
TEST_INDEX_URL = "https://test.pypi.org/simple/"


TOKEN_USERNAME = "__token__"  # noqa: S105 - the fixed username of API tokens, not a secret


def host_of(url: str) -> str:
    """The lower-case host name of ``url`` (no port, no credentials, no trailing dot: the DNS
    root ``upload.pypi.org.`` is the same host as ``upload.pypi.org``)."""
    return (urlsplit(url).hostname or "").lower().rstrip(".")


# Characters allowed in a host as written: letters, digits, '-', '.', and an IPv6 literal's
# brackets and colons. Anything else (``%``, ``\\``, non-ASCII that IDNA would map onto another
# name) is spelt differently by urllib3, which percent-decodes and IDNA-maps hosts.
_HOST_CHARS = re.compile(r"[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\]")


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot safely carry a credential, or None (rule 4 of
    :mod:`release.destinations`). Pure.

    When this returns None, the host urllib3 connects to is :func:`host_of` of the URL
    (tests/test_deputy.py checks it against urllib3 itself). Spaces around it do not count.
    """
    url = url.strip()
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return "it holds whitespace or a control character"
    if "\\" in url:
        return "it holds a backslash (urllib3 reads it as the end of the host)"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "its host or port does not parse"
    if "@" in parts.netloc:
        return "it holds user@ or user:password@ before the host"
    host = parts.netloc.rsplit(":", 1)[0] if not parts.netloc.endswith("]") else parts.netloc
    if not host or not _HOST_CHARS.fullmatch(host):
        return "its host is not plain ASCII letters, digits, '-' and '.' (or an [IPv6] address)"
    return None


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


def site_url(warehouse: Warehouse | None) -> str | None:
    """The website of a public Warehouse (where ``/_/oidc/`` and ``/integrity/`` live)."""
    if warehouse is None:
        return None
    return f"https://{PYPI_HOST if warehouse is Warehouse.PYPI else TESTPYPI_HOST}"


def strip_credentials(url: str) -> str:
    """``url`` without ``user:password@``: safe to print."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    netloc = parts.hostname or ""
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOOPBACK = "loopback"  # localhost, 127.0.0.0/8 and ::1 name the same machine


def _host_key(host: str) -> str:
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return _LOOPBACK
    try:
        if ipaddress.ip_address(host).is_loopback:
            return _LOOPBACK
    except ValueError:
        pass
    return host


def normalized_url(url: str) -> tuple[str, str, int | None, str]:
    """``url`` as (scheme, host, port, path) for comparing two index URLs: scheme and host case,
    the default port, credentials, percent-escapes, a trailing slash and the spelling of
    loopback (``localhost``, ``127.0.0.1``, ``[::1]``) do not make two URLs different.

    PURE. A URL whose port does not parse keeps it as ``None`` with the raw netloc as host,
    so it equals only itself.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        return scheme, parts.netloc.lower(), None, unquote(parts.path).rstrip("/")
    if port is None:
        port = _DEFAULT_PORTS.get(scheme)
    return scheme, _host_key(parts.hostname or ""), port, unquote(parts.path).rstrip("/")


def same_url(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` name the same index (see :func:`normalized_url`)."""
    return normalized_url(a) == normalized_url(b)

"""Read side: one project's page of a Simple API index -> :class:`IndexState`.

PEP 691 JSON when the index offers it, PEP 503 HTML otherwise (pypiserver serves only HTML);
parsing is pypi-simple's. We fetch the page ourselves (not through ``PyPISimple``) to control
what pypi-simple leaves to its caller: no caches, no redirect to another host, retries on
transient faults, and an answer that does not parse is an error, never "no files".
"""

from __future__ import annotations

__all__ = [
    "IndexFile",
    "IndexState",
    "UntrustedPage",
    "fetch_index_state",
    "file_key",
    "make_session",
    "parse_filename",
    "state_from_page",
    "versions_named",
]

import dataclasses
import re
from collections.abc import Callable, Hashable
from datetime import datetime
from urllib.parse import unquote, urljoin, urlsplit

import requests
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import VERSION_PATTERN, InvalidVersion, Version
from pypi_simple import ACCEPT_JSON_PREFERRED, ProjectPage
from pypi_simple.errors import UnsupportedContentTypeError, UnsupportedRepoVersionError

from .endpoints import strip_credentials
from .errors import IndexUnavailable
from .retry import RetryPolicy, Transient, parse_retry_after, retry_call

USER_AGENT = "nox-release (index read)"


@dataclasses.dataclass(frozen=True)
class IndexFile:
    """One file of the project as the index lists it."""

    filename: str
    project: NormalizedName | None
    version: Version | None  # None when the filename does not parse
    sha256: str | None  # None when the index gives no sha256
    yanked: bool
    url: str
    upload_time: datetime | None = None  # PEP 700 (JSON pages only)


@dataclasses.dataclass(frozen=True)
class IndexState:
    """What one index holds for one project at the moment it was read."""

    index_url: str
    project: NormalizedName
    exists: bool  # False: the index answered 404 for the project
    files: tuple[IndexFile, ...]

    def files_for(self, version: Version) -> tuple[IndexFile, ...]:
        """Files of ``version``, compared as PEP 440 versions (``1.0`` is ``1.0.0``)."""
        return tuple(f for f in self.files if f.version is not None and f.version == version)

    @property
    def versions(self) -> frozenset[Version]:
        """Every version with at least one file, yanked ones included."""
        return frozenset(f.version for f in self.files if f.version is not None)

    def by_filename(self) -> dict[str, IndexFile]:
        return {f.filename: f for f in self.files}

    def twin_of(self, filename: str) -> IndexFile | None:
        """The index's file that is ``filename`` to the index (see :func:`file_key`):
        ``Demo.Pkg-1.0.tar.gz`` on the index is the twin of our ``demo_pkg-1.0.0.tar.gz``.
        An exact filename wins over another spelling."""
        exact = self.by_filename().get(filename)
        if exact is not None:
            return exact
        key = file_key(filename)
        if key is None:
            return None
        return next((f for f in self.files if file_key(f.filename) == key), None)


def parse_filename(filename: str) -> tuple[NormalizedName, Version] | None:
    """(canonical name, version) of a wheel or sdist filename, old-style names included."""
    try:
        if filename.endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(filename)
            return name, version
        if filename.endswith((".tar.gz", ".zip")):
            return parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return None


def file_key(filename: str) -> Hashable | None:
    """What makes two filenames the same file to an index: kind, canonical name, version,
    and for wheels build tag and tags. ``Demo.Pkg-1.0.tar.gz`` is ``demo_pkg-1.0.0.tar.gz``;
    a ``.zip`` sdist is the ``.tar.gz`` one (PyPI takes one sdist per release).
    None when the filename is neither a wheel nor an sdist."""
    parsed = parse_filename(filename)
    if parsed is None:
        return None
    name, version = parsed
    if filename.endswith(".whl"):
        _n, _v, build, tags = parse_wheel_filename(filename)
        return ("wheel", name, version, build, frozenset(tags))
    return ("sdist", name, version)


_VERSION_AT_START = re.compile(r"^\s*" + VERSION_PATTERN, re.VERBOSE | re.IGNORECASE)


def versions_named(filename: str) -> frozenset[Version]:
    """Every PEP 440 version that starts a ``-``-separated part of ``filename``.

    For files no parser reads (``Demo.Pkg-1.0.linux-x86_64.exe``): the guard refuses when
    one of them may be our version, since such a file cannot be proved ours.
    """
    found: set[Version] = set()
    for part in filename.split("-")[1:]:
        match = _VERSION_AT_START.match(part)
        if match is None:
            continue
        try:
            found.add(Version(match.group(0)))
        except InvalidVersion:
            continue
    return frozenset(found)


def _to_index_file(
    filename: str,
    url: str,
    digests: dict[str, str],
    yanked: bool,
    hint_version: str | None,
    upload_time: datetime | None = None,
) -> IndexFile:
    parsed = parse_filename(filename)
    project: NormalizedName | None
    version: Version | None
    if parsed is not None:
        project, version = parsed
    else:
        project = None
        try:
            version = Version(hint_version) if hint_version else None
        except InvalidVersion:
            version = None
    sha = digests.get("sha256")
    return IndexFile(
        filename, project, version, sha.lower() if sha else None, yanked, url, upload_time
    )


_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


class UntrustedPage(ValueError):
    """A page that parses but cannot be trusted to list the project's files."""


def state_from_page(page: ProjectPage, index_url: str, project: NormalizedName) -> IndexState:
    """Check ``page`` and turn it into an :class:`IndexState`.

    Raises :class:`UntrustedPage` (a ValueError) for a page that cannot be trusted to list
    the project's files: one for another project, a link without a filename or whose text
    is not its URL's filename (PEP 503), a malformed sha256, or an HTML page with no links
    that does not say it is a Simple API page. An untrusted page must never read as
    "version absent".
    """
    if canonicalize_name(page.project) != project:
        raise UntrustedPage(f"the page is for project {page.project!r}, not {project!r}")
    if not page.packages and page.repository_version is None:
        raise UntrustedPage(
            "the page lists no files and does not declare itself a Simple API page "
            "(no pypi:repository-version)"
        )
    for n, p in enumerate(page.packages, start=1):
        tail = unquote(urlsplit(p.url).path.rsplit("/", 1)[-1])
        if not p.filename or "/" in p.filename or "\\" in p.filename:
            raise UntrustedPage(f"link {n} has no usable filename ({p.filename!r}, {p.url!r})")
        if tail != p.filename:
            raise UntrustedPage(
                f"link {n} names {p.filename!r} but points at {tail!r} (they must be the same)"
            )
        sha = p.digests.get("sha256")
        if sha is not None and not _SHA256.match(sha):
            raise UntrustedPage(f"link {n} ({p.filename}) has a malformed sha256 {sha[:80]!r}")
    files = tuple(
        _to_index_file(p.filename, p.url, dict(p.digests), p.is_yanked, p.version, p.upload_time)
        for p in page.packages
    )
    return IndexState(index_url=index_url, project=project, exists=True, files=files)


def make_session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


def project_url(index_url: str, project: NormalizedName) -> str:
    return urljoin(index_url if index_url.endswith("/") else index_url + "/", f"{project}/")


def _fetch_once(session: requests.Session, url: str, timeout: float) -> requests.Response | None:
    """One GET. None for 404. Raises Transient for what may pass, IndexUnavailable otherwise."""
    host = urlsplit(url).hostname
    target = url
    for _hop in range(5):
        try:
            response = session.get(
                target,
                headers={
                    "Accept": ACCEPT_JSON_PREFERRED,
                    "Cache-Control": "no-cache",
                    "Pragma": "no-cache",
                },
                timeout=timeout,
                allow_redirects=False,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise Transient(f"{type(exc).__name__} reading {strip_credentials(target)}") from None
        if response.is_redirect:
            location = urljoin(target, response.headers.get("Location", ""))
            if urlsplit(location).hostname != host:
                raise IndexUnavailable(
                    f"{strip_credentials(target)} redirects to another host "
                    f"({urlsplit(location).hostname}); nothing was uploaded.",
                    "Point the index URL at the index itself. A redirect to another host is "
                    "how a misconfigured private index falls back to PyPI.",
                )
            target = location
            continue
        break
    else:
        raise IndexUnavailable(
            f"Too many redirects reading {strip_credentials(url)}; nothing was uploaded.",
            "Check the index URL: it must be the Simple API root (e.g. ending in /simple/).",
        )
    if response.status_code == 404:
        return None
    if response.status_code == 429 or response.status_code >= 500:
        raise Transient(
            f"HTTP {response.status_code} from {strip_credentials(target)}",
            parse_retry_after(response.headers.get("Retry-After")),
        )
    if response.status_code in (401, 403):
        raise IndexUnavailable(
            f"{strip_credentials(target)} answered {response.status_code} "
            f"{response.reason} to a read; nothing was uploaded.",
            "This index needs credentials to read; nox-release reads anonymously. "
            "Use an index that allows anonymous reads of its simple pages.",
        )
    if response.status_code != 200:
        raise IndexUnavailable(
            f"{strip_credentials(target)} answered {response.status_code} {response.reason}; "
            "nothing was uploaded.",
            "Check the index URL (it must be the Simple API root, e.g. ending in /simple/).",
        )
    return response


def fetch_index_state(
    index_url: str,
    project: str,
    *,
    session: requests.Session | None = None,
    policy: RetryPolicy | None = None,
    timeout: float = 60.0,
    on_retry: Callable[[int, float, Transient], None] | None = None,
) -> IndexState:
    """Read the index once (one request, plus retries) for ``project``. Fail closed."""
    name = canonicalize_name(project)
    url = project_url(index_url, name)
    own_session = session is None
    http = session or make_session()
    try:
        try:
            response = retry_call(
                lambda: _fetch_once(http, url, timeout), policy or RetryPolicy(), on_retry=on_retry
            )
        except Transient as exc:
            raise IndexUnavailable(
                f"Could not read {strip_credentials(url)}: {exc.what} (after "
                f"{(policy or RetryPolicy()).attempts} attempts); nothing was uploaded.",
                "Check the index URL and your connection, then run the same command again; "
                "raise RELEASE_RETRIES to wait longer.",
            ) from None
        if response is None:
            return IndexState(index_url=index_url, project=name, exists=False, files=())
        try:
            return state_from_page(ProjectPage.from_response(response, name), index_url, name)
        except UntrustedPage as exc:
            raise IndexUnavailable(
                f"The answer of {strip_credentials(url)} cannot be trusted as the list of "
                f"{name}'s files: {exc}; nothing was uploaded.",
                "Check that the index URL is the Simple API (PEP 503/691) root of a working "
                "index; a proxy or a login page in between answers like this.",
            ) from None
        except (
            UnsupportedContentTypeError,
            UnsupportedRepoVersionError,
            ValueError,
            KeyError,
            TypeError,
        ) as exc:
            raise IndexUnavailable(
                f"The answer of {strip_credentials(url)} does not parse "
                f"({type(exc).__name__}: {str(exc)[:200]}); nothing was uploaded.",
                "Check that the index URL is a Simple API (PEP 503/691) root.",
            ) from None
    finally:
        if own_session:
            http.close()

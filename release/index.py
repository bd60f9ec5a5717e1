"""Read side: one project's page of a Simple API index -> :class:`~release.indexstate.IndexState`.

PEP 691 JSON when the index offers it, PEP 503 HTML otherwise (pypiserver serves only HTML);
parsing is pypi-simple's. We fetch the page ourselves (not through ``PyPISimple``) to control
what pypi-simple leaves to its caller: no caches, no redirect to another host, retries on
transient faults, and an answer that does not parse is an error, never "no files".
Polling (an index lags behind an upload) lives here too: :func:`poll_index_state` and
:func:`await_listed`. The data model itself is pure, in :mod:`release.indexstate`.
"""

from __future__ import annotations

__all__ = [
    "UntrustedPage",
    "await_listed",
    "fetch_index_state",
    "make_session",
    "poll_index_state",
    "state_from_page",
]

import re
import time
from collections.abc import Callable, Sequence
from urllib.parse import unquote, urljoin, urlsplit

import requests
from packaging.utils import NormalizedName, canonicalize_name
from pypi_simple import ACCEPT_JSON_PREFERRED, ProjectPage
from pypi_simple.errors import UnsupportedContentTypeError, UnsupportedRepoVersionError

from .endpoints import strip_credentials
from .errors import GuardRefusal, IndexUnavailable
from .indexstate import IndexState, index_file, listing_of
from .manifest import DistFile
from .output import Reporter
from .retry import RetryPolicy, Transient, parse_retry_after, retry_call

USER_AGENT = "nox-release (index read)"


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
        index_file(p.filename, p.url, dict(p.digests), p.is_yanked, p.version, p.upload_time)
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


def poll_index_state(
    index_url: str,
    project: str,
    settled: Callable[[IndexState], bool],
    *,
    policy: RetryPolicy,
    timeout: float,
    wait: float,
    on_wait: Callable[[IndexState], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> IndexState:
    """Read the index until ``settled(state)`` or ``wait`` seconds have passed; the last state
    read either way (the caller decides what an unsettled one means). Indexes serve stale
    pages for minutes after an upload, so the pause between reads grows from 0.25s to 5s."""
    deadline = time.monotonic() + wait
    delay = 0.25
    while True:
        state = fetch_index_state(index_url, project, policy=policy, timeout=timeout)
        if settled(state) or time.monotonic() >= deadline:
            return state
        if on_wait is not None:
            on_wait(state)
        sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 5.0)


def await_listed(
    index_url: str,
    project: str,
    expected: Sequence[DistFile],
    *,
    reporter: Reporter,
    policy: RetryPolicy,
    timeout: float,
    wait: float,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
) -> IndexState:
    """Poll the index until it lists every expected file with its sha256, bounded by ``wait``
    seconds, with progress. Other bytes under one of our names: refused at once."""
    where = strip_credentials(index_url)
    progress = reporter.progress(f"waiting for {where} to list {what}")
    state = poll_index_state(
        index_url,
        project,
        lambda s: (listing := listing_of(s, expected)).complete or bool(listing.wrong),
        policy=policy,
        timeout=timeout,
        wait=wait,
        on_wait=lambda s: progress.tick(
            f"{len(listing_of(s, expected).missing)} file(s) not listed yet"
        ),
        sleep=sleep,
    )
    listing = listing_of(state, expected)
    if listing.wrong:
        raise GuardRefusal(
            f"{where} lists {', '.join(listing.wrong)} with other bytes than ours.",
            "Versions are immutable: bump the version and release again.",
        )
    if not listing.complete:
        raise IndexUnavailable(
            f"After {wait:.0f}s {where} still does not list "
            f"{', '.join(listing.missing + listing.unhashed)} with a sha256.",
            "The index may lag behind (CDN caches): run the same command again later, "
            "or raise RELEASE_WAIT_TIMEOUT.",
        )
    return state

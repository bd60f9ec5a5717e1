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
    "for_a_read",
    "make_session",
    "page_from_answer",
    "poll_index_state",
    "state_from_page",
]

import re
import time
from collections.abc import Callable, Sequence
from urllib.parse import unquote, urljoin, urlsplit

import requests
from packaging.utils import NormalizedName, canonicalize_name
from pypi_simple import (
    ACCEPT_JSON_PREFERRED,
    DistributionPackage,
    ProjectPage,
    parse_links_stream,
)
from pypi_simple.errors import UnsupportedContentTypeError, UnsupportedRepoVersionError

from . import http
from .endpoints import strip_credentials
from .errors import GuardRefusal, IndexUnavailable
from .indexstate import IndexState, index_file, listing_of
from .manifest import DistFile
from .output import Reporter
from .retry import RetryPolicy, Transient, is_transient_status, parse_retry_after, retry_call

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


class UntrustedPage(ValueError):
    """A page that parses but cannot be trusted to list the project's files."""


def _refuse_conflicting_twins(page: ProjectPage) -> None:
    """A filename listed twice must be listed with the same sha256: otherwise which one is the
    file? (A reader that keeps the first or the last is a reader an attacker can steer.)"""
    seen: dict[str, str | None] = {}
    for p in page.packages:
        sha = p.digests.get("sha256")
        sha = sha.lower() if sha else None
        if p.filename in seen and seen[p.filename] != sha:
            raise UntrustedPage(f"{p.filename} is listed twice with different sha256 values")
        seen[p.filename] = sha


def state_from_page(page: ProjectPage, index_url: str, project: NormalizedName) -> IndexState:
    """Check ``page`` and turn it into an :class:`IndexState`.

    Raises :class:`UntrustedPage` (a ValueError) for a page that cannot be trusted to list
    the project's files: one for another project, a link without a filename or whose text
    is not its URL's filename (PEP 503), a malformed sha256, a file listed twice with different
    sha256 values, or an HTML page with no links
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
    _refuse_conflicting_twins(page)
    files = tuple(
        index_file(p.filename, p.url, dict(p.digests), p.is_yanked, p.version, p.upload_time)
        for p in page.packages
    )
    return IndexState(index_url=index_url, project=project, exists=True, files=files)


def make_session() -> requests.Session:
    """The reader's session (:func:`release.http.make_session`)."""
    return http.make_session("index read")


def project_url(index_url: str, project: NormalizedName) -> str:
    return urljoin(index_url if index_url.endswith("/") else index_url + "/", f"{project}/")


_READ_HEADERS = {
    "Accept": ACCEPT_JSON_PREFERRED,
    "Cache-Control": "no-cache",
    "Pragma": "no-cache",
}


def _same_origin_or_upgrade(source: str, target: str) -> bool:
    """A redirect the reader follows: same host, and never from https down to http. Pure."""
    a, b = urlsplit(source), urlsplit(target)
    if (a.hostname or "").lower() != (b.hostname or "").lower():
        return False
    return not (a.scheme == "https" and b.scheme != "https")


def _fetch_once(session: requests.Session, url: str, timeout: float) -> http.Answer | None:
    """One GET. None for 404. Raises Transient for what may pass, IndexUnavailable otherwise."""
    target = url
    for _hop in range(5):
        answer = http.exchange(
            session, "GET", target, limits=http.Limits.page(timeout), headers=_READ_HEADERS
        )
        if answer.is_redirect:
            location = answer.location
            if not _same_origin_or_upgrade(target, location):
                raise IndexUnavailable(
                    f"{strip_credentials(target)} redirects to another host or to plain http "
                    f"({strip_credentials(location)}); nothing was uploaded.",
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
    if answer.status == 404:
        return None
    if is_transient_status(answer.status):
        raise Transient(
            f"HTTP {answer.status} from {strip_credentials(target)}",
            parse_retry_after(answer.headers.get("Retry-After")),
        )
    if answer.status in (401, 403):
        raise IndexUnavailable(
            f"{strip_credentials(target)} answered {answer.status} "
            f"{answer.reason} to a read; nothing was uploaded.",
            "This index needs credentials to read; nox-release reads anonymously. "
            "Use an index that allows anonymous reads of its simple pages.",
        )
    if answer.status != 200:
        raise IndexUnavailable(
            f"{strip_credentials(target)} answered {answer.status} {answer.reason}; "
            "nothing was uploaded.",
            "Check the index URL (it must be the Simple API root, e.g. ending in /simple/).",
        )
    return answer


def _html_page(answer: http.Answer, project: NormalizedName) -> ProjectPage:
    """An HTML page through pypi-simple's streaming link parser (stdlib HTMLParser): a page of
    200,000 links under the size cap costs a fraction of what its BeautifulSoup parser does
    (bench_hostile.py --links). A page without links goes through ``from_html``, which also
    reads the repository version that tells an empty Simple page from any other page."""
    links = list(
        parse_links_stream([answer.body], base_url=answer.url, http_charset=answer.charset)
    )
    if not links:
        return ProjectPage.from_html(
            project=project, html=answer.body, base_url=answer.url, from_encoding=answer.charset
        )
    return ProjectPage(
        project=project,
        packages=[DistributionPackage.from_link(link, project) for link in links],
        repository_version=None,  # only asked for when there are no files
        last_serial=None,
    )


def page_from_answer(answer: http.Answer, project: NormalizedName) -> ProjectPage:
    """pypi-simple's page of ``answer`` (its public parsers; JSON read strictly). Raises
    UnsupportedContentTypeError, ValueError (duplicate keys, too deep, bad page)."""
    content_type = answer.content_type
    if content_type == "application/vnd.pypi.simple.v1+json":
        page = ProjectPage.from_json_data(answer.json(), answer.url)
    elif content_type in ("application/vnd.pypi.simple.v1+html", "text/html"):
        page = _html_page(answer, project)
    else:
        raise UnsupportedContentTypeError(answer.url, content_type)
    if page.last_serial is None:
        page.last_serial = answer.headers.get("X-PyPI-Last-Serial")
    return page


def for_a_read(exc: IndexUnavailable) -> IndexUnavailable:
    """The same failure for a command that uploads nothing anyway (doctor, plan): without
    "nothing was uploaded", which only an upload needs to say."""
    message = exc.message.replace("; nothing was uploaded.", ".")
    return IndexUnavailable(message, exc.fix)


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
    reader = session or make_session()
    try:
        try:
            answer = retry_call(
                lambda: _fetch_once(reader, url, timeout),
                policy or RetryPolicy(),
                on_retry=on_retry,
            )
        except Transient as exc:
            raise IndexUnavailable(
                f"Could not read {strip_credentials(url)}: {exc.what} (after "
                f"{(policy or RetryPolicy()).attempts} attempts); nothing was uploaded.",
                f"Check the host name in the index URL ({exc.unresolved_host} may be misspelt) "
                "and that this machine can resolve names (DNS, network), then run the same "
                "command again."
                if exc.unresolved_host
                else "Check the index URL and your connection, then run the same command "
                "again; raise RELEASE_RETRIES to wait longer.",
            ) from None
        if answer is None:
            return IndexState(index_url=index_url, project=name, exists=False, files=())
        try:
            return state_from_page(page_from_answer(answer, name), index_url, name)
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
            AttributeError,
            LookupError,
            RecursionError,
        ) as exc:
            raise IndexUnavailable(
                f"The answer of {strip_credentials(url)} does not parse "
                f"({type(exc).__name__}: {str(exc)[:200]}); nothing was uploaded.",
                "Check that the index URL is a Simple API (PEP 503/691) root.",
            ) from None
    finally:
        if own_session:
            reader.close()


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
    waiting = f"waiting for {where} to list {what}"
    # The heartbeat keeps its 5 s rhythm however long a read takes (reads are bounded by
    # timeout, not by 5 s); each read updates what it says.
    with reporter.running(waiting, announce=True) as beat:

        def on_wait(state: IndexState) -> None:
            beat.what = f"{waiting} ({len(listing_of(state, expected).missing)} not listed yet)"

        state = poll_index_state(
            index_url,
            project,
            lambda s: (listing := listing_of(s, expected)).complete or bool(listing.wrong),
            policy=policy,
            timeout=timeout,
            wait=wait,
            on_wait=on_wait,
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

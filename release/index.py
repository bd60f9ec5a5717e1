"""Read side: one project's page of a Simple API index -> :class:`~release.indexstate.IndexState`.

PEP 691 JSON when the index offers it, PEP 503 HTML otherwise (pypiserver serves only HTML);
HTML parsing is pypi-simple's, JSON is read by :mod:`release.jsonpage`. We fetch the page
ourselves (not through ``PyPISimple``) to control what pypi-simple leaves to its caller: no
caches, no redirect to another host, retries on transient faults, and an answer that does not
parse is an error, never "no files".
A page is read as it arrives (:func:`release.http.exchange_read`), link by link or file object
by file object, and only what the caller's :class:`~release.indexstate.Keep` names is kept: a
hostile page of 200,000 links costs its version strings, not the page, as HTML or as JSON
(release/docs/security.md, bench_hostile.py --links, --links-json).
Polling (an index lags behind an upload) lives here too: :func:`poll_index_state` and
:func:`await_listed`. The data model itself is pure, in :mod:`release.indexstate`.
"""

from __future__ import annotations

__all__ = [
    "EMPTY_PAGE_CAP",
    "EVERYTHING",
    "VERSIONS",
    "Keep",
    "UntrustedPage",
    "await_listed",
    "fetch_index_state",
    "for_a_read",
    "keep_for",
    "make_session",
    "poll_index_state",
    "prefetch_parser",
    "read_answer",
]

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import requests
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from . import http
from .endpoints import strip_credentials
from .errors import GuardRefusal, IndexUnavailable
from .indexstate import (
    EVERYTHING,
    VERSIONS,
    IndexState,
    Keep,
    PageReader,
    UntrustedPage,
    listing_of,
    parse_filename,
)
from .jsonpage import read_json_page
from .manifest import DistFile
from .output import Reporter
from .retry import RetryPolicy, Transient, is_transient_status, parse_retry_after, retry_call

if TYPE_CHECKING:
    from pypi_simple import DistributionPackage

# A page without a single link is an empty project's page (a few hundred bytes), read whole to
# find its pypi:repository-version; one larger than this is no such page.
EMPTY_PAGE_CAP = 64 * 1024
_JSON = "application/vnd.pypi.simple.v1+json"
_HTML = ("application/vnd.pypi.simple.v1+html", "text/html")


def make_session() -> requests.Session:
    """The reader's session (:func:`release.http.make_session`)."""
    return http.make_session("index read")


def project_url(index_url: str, project: NormalizedName) -> str:
    return urljoin(index_url if index_url.endswith("/") else index_url + "/", f"{project}/")


# PEP 691's Accept header, JSON preferred: pypi-simple's ACCEPT_JSON_PREFERRED, written out so
# that a read is sent without importing pypi-simple, and one answered 404 (a project's first
# release) never does (tests/test_index_prefetch.py holds the two equal).
ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.5, "
    "text/html;q=0.01"
)
_READ_HEADERS = {"Accept": ACCEPT, "Cache-Control": "no-cache", "Pragma": "no-cache"}

_prefetch_lock = threading.Lock()
_prefetch: threading.Thread | None = None


def _import_parser() -> None:
    # A failure is left to read_answer's own import, which raises it in the reader's thread.
    with contextlib.suppress(Exception):
        import pypi_simple  # noqa: F401


def prefetch_parser() -> threading.Thread | None:
    """Start importing pypi-simple (BeautifulSoup, pydantic: some 0.13 s of CPU) in a thread of
    its own, once per process, for a caller about to wait on the network: an upload whose
    body is sent (:mod:`release.upload`), so that the proof read after it finds the parser
    imported. :func:`read_answer`'s own import waits for this one (the import system's lock
    on the module). Returns the thread started by this call or an earlier one; None when
    pypi-simple was imported without one, or when no thread could be started (a pids
    limit): the reader then imports it itself, as it would without this.

    The thread is not a daemon (whoever starts it): a process ending early waits for the
    import to finish (at most its 0.13 s) rather than tear the interpreter down under it.
    Started while the process waits on the network, it costs no time; started beside work (the
    reads and copies before an upload), it would slow that work as much as it saves."""
    global _prefetch
    with _prefetch_lock:
        if _prefetch is None and "pypi_simple" not in sys.modules:
            thread = threading.Thread(
                target=_import_parser, name="import pypi-simple", daemon=False
            )
            try:
                thread.start()
            except RuntimeError:  # "can't start new thread": a speed-up never fails a read
                return None
            _prefetch = thread
        return _prefetch


def _same_origin_or_upgrade(source: str, target: str) -> bool:
    """A redirect the reader follows: same host, and never from https down to http. Pure."""
    a, b = urlsplit(source), urlsplit(target)
    if (a.hostname or "").lower() != (b.hostname or "").lower():
        return False
    return not (a.scheme == "https" and b.scheme != "https")


class _Unparsable(Exception):
    """The page does not parse (pypi-simple's or the JSON parser's error, wrapped)."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(f"{type(cause).__name__}: {str(cause)[:200]}")


# What pypi-simple and the JSON parser raise for a page they cannot read.
_PARSE_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    LookupError,
    RecursionError,
)


def _fetch_once(
    session: requests.Session, url: str, timeout: float, reader: Callable[[], PageReader]
) -> IndexState | None:
    """One GET, its page read as it comes. None for 404. Raises Transient for what may pass,
    IndexUnavailable otherwise, UntrustedPage / _Unparsable for the page."""
    target = url

    def read(answer: http.Answer, pieces: Iterator[bytes]) -> IndexState | None:
        if answer.status != 200:
            return None  # the body is not read
        return read_answer(answer, pieces, reader())

    for _hop in range(5):
        answer, state = http.exchange_read(
            session,
            "GET",
            target,
            read,
            limits=http.Limits.page(timeout),
            headers=dict(_READ_HEADERS),
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
    _refuse_status(answer, target)
    return state


def _refuse_status(answer: http.Answer, target: str) -> None:
    """Any status but 200 (and 404, a project not there yet): Transient or IndexUnavailable."""
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


def _add(reader: PageReader, p: DistributionPackage) -> None:
    reader.add(p.filename, p.url, p.digests, p.is_yanked, p.version, p.upload_time)


# What the HTML parser is fed at a time: the stdlib's HTMLParser scans an unfinished tag again
# from its start on every feed, so a tag left open across 16 KiB pieces costs time quadratic
# in its length (8 MiB: 16.6 s where the whole body took 0.2 s); 1 MiB feeds make that 64
# times less, for 1 MiB of memory.
FEED = 1 << 20


def _coalesced(pieces: Iterator[bytes], size: int = FEED) -> Iterator[bytes]:
    """``pieces`` joined into runs of at least ``size`` bytes (the last may be shorter)."""
    run = bytearray()
    for piece in pieces:
        run += piece
        if len(run) >= size:
            yield bytes(run)
            run.clear()
    if run:
        yield bytes(run)


def _read_html(answer: http.Answer, pieces: Iterator[bytes], reader: PageReader) -> IndexState:
    """An HTML page through pypi-simple's streaming link parser (stdlib HTMLParser), link by
    link as the body arrives: neither the body nor the links are held, only what ``reader``
    keeps (bench_hostile.py --links). Until the first link the body is kept (at most
    :data:`EMPTY_PAGE_CAP`): a page without links goes whole through ``from_html``, which
    reads the repository version that tells an empty Simple page from any other page
    (the streaming parser checks that version but does not report it)."""
    from pypi_simple import (  # lazily: see read_answer
        DistributionPackage,
        ProjectPage,
        parse_links_stream,
    )

    head: bytearray | None = bytearray()

    def until_a_link() -> Iterator[bytes]:
        nonlocal head
        for piece in _coalesced(pieces):
            if head is not None and not reader.count:
                head += piece
                if len(head) > EMPTY_PAGE_CAP:
                    head = None  # too large for an empty page: a link must come
            yield piece

    for link in parse_links_stream(
        until_a_link(), base_url=answer.url, http_charset=answer.charset
    ):
        head = None  # not an empty page: its head is not needed
        _add(reader, DistributionPackage.from_link(link, reader.project))
    if reader.count:
        return reader.state(declared=True)
    if head is None:
        raise UntrustedPage(
            f"the page lists no files and is larger than {EMPTY_PAGE_CAP // 1024} KiB "
            "(an empty Simple API page is a few hundred bytes)"
        )
    page = ProjectPage.from_html(
        project=reader.project, html=bytes(head), base_url=answer.url, from_encoding=answer.charset
    )
    if page.packages:  # links BeautifulSoup finds and the streaming parser does not
        raise UntrustedPage(
            f"the streaming reader finds no link where a lenient parser finds "
            f"{len(page.packages)} (an encoding or markup it does not read, e.g. UTF-16 "
            "without a charset)"
        )
    return reader.state(declared=page.repository_version is not None)


def _read_json(answer: http.Answer, pieces: Iterator[bytes], reader: PageReader) -> IndexState:
    """A PEP 691 page, read as it arrives by :func:`release.jsonpage.read_json_page` (the
    stdlib's JSON scanner, one file object at a time into ``reader``), not by pypi-simple's
    ``ProjectPage.from_json_data``, whose pydantic models hold every file of the page at once
    (a 200,000-file page: bench_hostile.py --links-json). pypi-simple still reads the version
    in an old-style filename, and its supported repository version is the bound here."""
    from pypi_simple import (  # lazily: see read_answer
        SUPPORTED_REPOSITORY_VERSION,
        UnparsableFilenameError,
        UnsupportedRepoVersionError,
        parse_filename,
    )

    def version_hint(filename: str) -> str | None:
        try:
            return parse_filename(filename, reader.project)[1]
        except UnparsableFilenameError:
            return None

    declared = read_json_page(pieces, answer.url, reader, version_hint)
    # PEP 629: a client refuses a major version it does not know (pypi-simple's check).
    ours, theirs = Version(SUPPORTED_REPOSITORY_VERSION), Version(declared)
    if (theirs.epoch, theirs.major) > (ours.epoch, ours.major):
        raise UnsupportedRepoVersionError(declared, SUPPORTED_REPOSITORY_VERSION)
    return reader.state(declared=True)


def read_answer(answer: http.Answer, pieces: Iterator[bytes], reader: PageReader) -> IndexState:
    """The project's state from a 200 answer whose body comes as ``pieces``, every trust
    check applied by ``reader`` (:class:`~release.indexstate.PageReader`), which keeps only
    what its :class:`~release.indexstate.Keep` names.

    HTML parsing is pypi-simple's (its public parsers), JSON :mod:`release.jsonpage`'s;
    pypi-simple is imported here and not with this module: its package pulls BeautifulSoup
    and pydantic, some 0.15 s that the commands which never read an index (build, gather,
    init) do not pay, and that an upload pays while its first file is in flight
    (:func:`prefetch_parser`). Raises
    UntrustedPage, or _Unparsable for a page that does not parse."""
    from pypi_simple.errors import (
        UnsupportedContentTypeError,
        UnsupportedRepoVersionError,
    )

    unparsable: tuple[type[Exception], ...] = (*_PARSE_ERRORS, UnsupportedRepoVersionError)
    try:
        if answer.content_type == _JSON:
            return _read_json(answer, pieces, reader)
        if answer.content_type in _HTML:
            return _read_html(answer, pieces, reader)
        raise UnsupportedContentTypeError(answer.url, answer.content_type)
    except UntrustedPage:
        raise
    except unparsable as exc:
        raise _Unparsable(exc) from None


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
    keep: Keep = EVERYTHING,
) -> IndexState:
    """Read the index once (one request, plus retries) for ``project``. Fail closed.

    ``keep``: the files kept whole (:class:`~release.indexstate.Keep`); of the others only
    their versions. A command names the versions it decides about, so that a hostile page of
    many links costs their version strings. The default keeps every file (for small pages)."""
    name = canonicalize_name(project)
    url = project_url(index_url, name)
    own_session = session is None
    client = session or make_session()
    try:
        try:
            state = retry_call(
                lambda: _fetch_once(
                    client, url, timeout, lambda: PageReader(index_url, name, keep)
                ),
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
        except UntrustedPage as exc:
            raise IndexUnavailable(
                f"The answer of {strip_credentials(url)} cannot be trusted as the list of "
                f"{name}'s files: {exc}; nothing was uploaded.",
                "Check that the index URL is the Simple API (PEP 503/691) root of a working "
                "index; a proxy or a login page in between answers like this.",
            ) from None
        except _Unparsable as exc:
            raise IndexUnavailable(
                f"The answer of {strip_credentials(url)} does not parse ({exc}); "
                "nothing was uploaded.",
                "Check that the index URL is a Simple API (PEP 503/691) root.",
            ) from None
    finally:
        if own_session:
            client.close()
    if state is None:
        return IndexState(index_url=index_url, project=name, exists=False, files=(), kept=keep)
    return state


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
    keep: Keep = EVERYTHING,
) -> IndexState:
    """Read the index until ``settled(state)`` or ``wait`` seconds have passed; the last state
    read either way (the caller decides what an unsettled one means). Indexes serve stale
    pages for minutes after an upload, so the pause between reads grows from 0.25s to 5s.
    ``keep``: as :func:`fetch_index_state`'s."""
    deadline = time.monotonic() + wait
    delay = 0.25
    while True:
        state = fetch_index_state(index_url, project, policy=policy, timeout=timeout, keep=keep)
        if settled(state) or time.monotonic() >= deadline:
            return state
        if on_wait is not None:
            on_wait(state)
        sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 5.0)


def keep_for(files: Sequence[DistFile]) -> Keep:
    """What a read about ``files`` keeps: the files of their versions. Pure."""
    return Keep.of(*(parsed[1] for f in files if (parsed := parse_filename(f.filename))))


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
            keep=keep_for(expected),
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

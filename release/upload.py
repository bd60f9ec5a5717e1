"""Uploads, one file per request, with retries, race handling and proof on the index.

twine prepares each file (``PackageFile``: metadata, validation); :func:`form_fields` turns its
metadata into the upload form as twine does (tests/test_upload_form.py compares the two for a
real wheel and sdist), and we send the POST ourselves because
``twine.repository.Repository.upload`` retries 5xx at once, without backoff, and turns every
answer into one exception. We need the answer itself: "already exists" is not a
failure until the index shows other bytes, and each refusal gets its own explanation.
The body is streamed (requests-toolbelt's MultipartEncoder over the open file): a 500 MB wheel is
never held in memory.

**The bytes sent are the bytes hashed.** ``check_dist`` hashes dist/ by path, and a process
left behind by the build (or anything else that can write dist/) could swap a file before it is
sent. So :func:`upload_files` first copies every file it is given into a private folder of its
own (mode 0700), through one descriptor opened without following links and hashing as it
copies, and refuses (exit 2, nothing of that file sent) when the copy's sha256 or size is not
the manifest's; the form, the body and any later comparison read that copy only.
"""

from __future__ import annotations

__all__ = [
    "Outcome",
    "UploadResult",
    "form_fields",
    "private_copies",
    "private_copy",
    "probe_auth",
    "upload_batches",
    "upload_files",
]

import concurrent.futures
import contextlib
import dataclasses
import enum
import hashlib
import os
import re
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import requests
from requests_toolbelt import MultipartEncoder, MultipartEncoderMonitor
from twine.package import PackageFile

from . import http
from .config import IndexSettings
from .credentials import Credential
from .distdir import CHUNK
from .endpoints import strip_credentials
from .errors import DistError, GuardRefusal, UploadRejected
from .index import keep_for, poll_index_state, prefetch_parser
from .manifest import DistFile
from .output import Reporter
from .retry import RetryPolicy, Transient, is_transient_status, parse_retry_after, retry_call
from .tokens import check_token

if TYPE_CHECKING:
    from .checklist import AuthAnswer
    from .diagnose import Diagnosis

# What explains a refusal (release.diagnose, release.checklist) is imported when there is one:
# a clean upload never needs it.

_BLAKE2 = re.compile(r"blake2_256 hash '([0-9a-f]{64})'")


class Outcome(enum.Enum):
    UPLOADED = "uploaded"
    ALREADY_THERE = "already there, identical (an earlier attempt or a parallel job sent it)"


@dataclasses.dataclass(frozen=True)
class UploadResult:
    filename: str
    outcome: Outcome
    attempts: int
    seconds: float


def _blake2_256(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=32)
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


FormFields = list[tuple[str, str]]
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)


def _open_regular(path: Path) -> int:
    """A descriptor of ``path`` if it is a regular file and not a symbolic link (DistError)."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _BINARY)
    except OSError as exc:
        what = "a symbolic link" if path.is_symlink() else f"unreadable ({exc.strerror})"
        raise DistError(
            f"{path.name} in {path.parent} is {what}: only regular files are uploaded. "
            "Nothing of it was sent.",
            "Put the built files themselves in dist/ (a link can point anywhere, outside the "
            "project too), or run `nox -s build` again.",
        ) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise DistError(
            f"{path.name} in {path.parent} is not a regular file. Nothing of it was sent.",
            "Run `nox -s build` again.",
        )
    return fd


def private_copy(path: Path, entry: DistFile, folder: Path) -> Path:
    """``path`` copied into ``folder`` through one descriptor, hashed as it is copied; the
    copy, read-only, when its sha256 and size are the manifest's, else DistError (exit 2)."""
    target = folder / entry.filename
    digest = hashlib.sha256()
    size = 0
    src = _open_regular(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY
    with os.fdopen(src, "rb") as source, os.fdopen(os.open(target, flags, 0o600), "wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    target.chmod(0o400)
    if digest.hexdigest() != entry.sha256 or size != entry.size:
        raise DistError(
            f"{entry.filename} changed after it was checked: its bytes now are not the ones the "
            f"manifest records (sha256 {digest.hexdigest()[:12]}… vs {entry.sha256[:12]}…, "
            f"{size} vs {entry.size} bytes). Nothing of it was sent.",
            "Something rewrote dist/ during the release (a process the build left running?). "
            "Run `nox -s build` again and release from a clean dist/.",
        )
    return target


@contextlib.contextmanager
def private_copies(
    files: Sequence[tuple[Path, DistFile]],
) -> Iterator[list[tuple[Path, DistFile]]]:
    """Every file of ``files`` as a checked private copy (:func:`private_copy`), all made
    before the first is sent; the folder is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="nox-release-upload-") as tmp:
        folder = Path(tmp)
        folder.chmod(0o700)
        yield [(private_copy(path, entry, folder), entry) for path, entry in files]


def form_fields(path: Path, extra: Sequence[tuple[str, str]] = ()) -> FormFields:
    """The text fields of the upload form for ``path`` (its file goes in as ``content``).

    Warehouse's legacy upload API reads the core metadata as form fields
    (``warehouse.forklift.parse_form_metadata``); twine's ``PackageFile.metadata_dictionary``
    (public) gives it as a dict, and these few lines flatten it as twine does: a list is one
    field per item, except ``keywords`` (one comma-separated field); ``project_urls`` is one
    ``"label, url"`` field per entry. ``extra`` fields (e.g. ``attestations``) go after the
    metadata and before ``:action``.
    """
    metadata: dict[str, object] = dict(
        PackageFile.from_filename(str(path), None).metadata_dictionary()
    )
    fields: FormFields = []
    for key, value in metadata.items():
        if value is None:
            continue
        if isinstance(value, dict):
            fields += [(key, f"{label}, {url}") for label, url in value.items()]
        elif isinstance(value, (list, tuple)) and key == "keywords":
            fields.append((key, ", ".join(str(item) for item in value)))
        elif isinstance(value, (list, tuple)):
            fields += [(key, str(item)) for item in value]
        else:
            fields.append((key, str(value)))
    fields += extra
    fields += [(":action", "file_upload"), ("protocol_version", "1")]
    return fields


def _when_sent(monitor: MultipartEncoderMonitor) -> None:
    """Called as the body is read out to the socket: once it all is, the index's answer is
    awaited (150 ms to seconds), and the page parser the proof read needs is imported
    meanwhile (:func:`release.index.prefetch_parser`). The first file of a new release goes
    alone, so the import runs beside nothing but the wait, unless the index answers faster
    than it imports. Runs inside the send: nothing it raises may end the upload."""
    if monitor.bytes_read >= monitor.len:
        with contextlib.suppress(Exception):
            prefetch_parser()


class _Sender:
    """POSTs files to one upload URL; one requests session per thread, all closed by
    :meth:`close`."""

    def __init__(self, index: IndexSettings, credential: Credential, timeout: float) -> None:
        self.index = index
        self.credential = credential
        self.timeout = timeout
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = http.make_session("upload")
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def post(self, path: Path, extra: Sequence[tuple[str, str]] = ()) -> http.Answer:
        fields: list[tuple[str, object]] = list(form_fields(path, extra))
        session = self._session()
        with path.open("rb") as f:
            fields.append(("content", (path.name, f, "application/octet-stream")))
            encoder = MultipartEncoder(fields)
            try:
                return http.exchange(
                    session,
                    "POST",
                    self.index.upload_url,
                    limits=http.Limits.short(self.timeout, sending=encoder.len),
                    data=MultipartEncoderMonitor(encoder, _when_sent),
                    headers={"Content-Type": encoder.content_type},
                    auth=self.credential.get(),  # renewed here when short-lived
                )
            except Transient as exc:
                raise Transient(
                    f"{exc.short} sending {path.name}", unresolved_host=exc.unresolved_host
                ) from None

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()


def _rejected(
    response: http.Answer,
    entry: DistFile,
    index: IndexSettings,
    project: str,
    credential: Credential,
    diagnosis: Diagnosis,
) -> UploadRejected:
    """The index's refusal, explained (the known ones) or shown verbatim (all others)."""
    reason = response.reason or ""
    message = (
        f"{index.name} index refused {entry.filename}: HTTP {response.status} {reason}".rstrip()
    )
    message = f"{message}\n  {diagnosis.title} {diagnosis.cause}"
    if response.status == 403:
        hint = _token_hint(credential, index, project)
        if hint:
            message += f"\n  Offline token check: {hint}"
    # the secret, if a server echoed it, is removed where the message is shown (release.redact:
    # the credential registered itself when it was made)
    return UploadRejected(
        message,
        diagnosis.fix,
        status=response.status,
        reason=reason,
    )


def _token_hint(credential: Credential, index: IndexSettings, project: str) -> str | None:
    """Which offline token check explains a 403, if any."""
    from .diagnose import explain_403_with_token

    username, secret = credential.get()
    findings = check_token(
        secret, username=username, index=index, project=project, now=datetime.now(timezone.utc)
    )
    return explain_403_with_token(findings)


def _settle_exists(
    path: Path,
    entry: DistFile,
    response: http.Answer,
    index: IndexSettings,
    project: str,
    policy: RetryPolicy,
    timeout: float,
    wait: float,
) -> Outcome:
    """The index says the file exists: ours, byte for byte, or refuse. Never retry blindly."""
    match = _BLAKE2.search(response.reason or "") or _BLAKE2.search(response.text)
    if match is not None:  # PyPI names the stored file's blake2_256: compare at once
        if match.group(1) == _blake2_256(path):
            return Outcome.ALREADY_THERE
        raise GuardRefusal(
            f"{index.name} index already holds {entry.filename} with other bytes "
            "(its blake2_256 differs from ours).",
            "Another build of this version was uploaded first. Versions are immutable: "
            "bump the version (nox -s bump_version -- patch) and release again.",
        )
    state = poll_index_state(
        index.index_url,
        project,
        lambda s: (twin := s.twin_of(entry.filename)) is not None and twin.sha256 is not None,
        policy=policy,
        timeout=timeout,
        wait=wait,
        keep=keep_for([entry]),
    )
    listed = state.twin_of(entry.filename)
    if listed is None or listed.sha256 is None:
        raise GuardRefusal(
            f"{index.name} index says {entry.filename} already exists, but does not list it "
            "with a sha256, so it cannot be proved identical to ours.",
            "If the index lags, run the same command again in a few minutes; if the file was "
            "deleted, its name can never be reused: bump the version.",
        )
    if listed.sha256 == entry.sha256:
        return Outcome.ALREADY_THERE
    raise GuardRefusal(
        f"{index.name} index already holds {entry.filename} with other bytes "
        f"(sha256 {listed.sha256[:12]}…, ours {entry.sha256[:12]}…).",
        "Another build of this version was uploaded first. Versions are immutable: "
        "bump the version (nox -s bump_version -- patch) and release again.",
    )


@dataclasses.dataclass(frozen=True)
class _Uploader:
    """One run's settings and sender; :meth:`one` uploads one file, with retries."""

    sender: _Sender
    index: IndexSettings
    credential: Credential
    project: str
    reporter: Reporter
    policy: RetryPolicy
    timeout: float
    wait: float
    extra_fields: Mapping[str, Sequence[tuple[str, str]]]

    def one(self, path: Path, entry: DistFile) -> UploadResult:
        started = time.monotonic()
        attempts = 0

        def attempt() -> Outcome:
            nonlocal attempts
            attempts += 1
            return self._attempt(path, entry)

        def on_retry(n: int, delay: float, exc: Transient) -> None:
            self.reporter.line(
                f"{entry.filename}: {exc.what}; attempt {n + 1} in {delay:.1f}s", "wait"
            )

        try:
            outcome = retry_call(attempt, self.policy, on_retry=on_retry)
        except Transient as exc:
            raise UploadRejected(
                f"Could not upload {entry.filename} to "
                f"{strip_credentials(self.index.upload_url)}: {exc.what} (after "
                f"{self.policy.attempts} attempts).",
                "Run the same command again: files already on the index are not sent twice.",
            ) from None
        result = UploadResult(entry.filename, outcome, attempts, time.monotonic() - started)
        mark = "up" if outcome is Outcome.UPLOADED else "skip"
        self.reporter.file(entry.filename, f"{outcome.value} ({result.seconds:.1f}s)", mark)
        return result

    def _attempt(self, path: Path, entry: DistFile) -> Outcome:
        """One POST and what its answer means; Transient when it may pass."""
        try:
            response = self.sender.post(path, self.extra_fields.get(entry.filename, ()))
        except http.AnswerError as exc:  # too slow or too large: stored or not, unknown
            raise UploadRejected(
                f"{exc.message} (uploading {entry.filename}: it may or may not be stored)",
                "Run the same command again: a file already on the index with our bytes is "
                "not sent twice, and one with other bytes is refused.",
            ) from None
        status = response.status
        if status == 200:
            return Outcome.UPLOADED
        from .diagnose import explain_upload, retry_cannot_cure

        if is_transient_status(status) and retry_cannot_cure(status, entry.filename) is None:
            raise Transient(
                f"HTTP {status} {response.reason} for {entry.filename}",
                parse_retry_after(response.headers.get("Retry-After")),
            )
        diagnosis = explain_upload(
            status,
            response.reason or "",
            response.shown_text,  # redacted as it came, before the diagnosis reformats it
            project=self.project,
            filename=entry.filename,
            index_name=self.index.name,
        )
        # "Already exists" (PyPI 400, pypiserver 409/400, devpi 409) is a race or an
        # earlier attempt that landed, until the index shows other bytes: never retry blindly.
        if diagnosis.code == "file-exists":
            return _settle_exists(
                path,
                entry,
                response,
                self.index,
                self.project,
                self.policy,
                self.timeout,
                self.wait,
            )
        raise _rejected(response, entry, self.index, self.project, self.credential, diagnosis)


def _concurrently(
    pool: concurrent.futures.ThreadPoolExecutor,
    one: Callable[[Path, DistFile], UploadResult],
    queue: Sequence[tuple[Path, DistFile]],
) -> list[UploadResult]:
    """``one`` over ``queue`` on ``pool`` (as many at a time as it has threads); the first
    error once all have finished."""
    results: list[UploadResult] = []
    error: BaseException | None = None
    futures = [pool.submit(one, path, entry) for path, entry in queue]
    for future in futures:
        try:
            results.append(future.result())
        except BaseException as exc:  # keep the others' results; report the first
            error = error or exc
    if error is not None:
        raise error
    return results


def upload_batches(
    files: Sequence[tuple[Path, DistFile]], *, first_alone: bool = False
) -> list[list[tuple[Path, DistFile]]]:
    """The order of uploads to every index: batches, one after another, the files of each
    sent concurrently. Pure.

    All wheels, then the sdist once every wheel is up: an installer that sees a half-uploaded
    release finds wheels (or nothing), never only an sdist it would build from source. With
    ``first_alone`` (a new project or release, which the first upload creates: concurrent
    first uploads would race to create it), the smallest wheel goes alone before the others:
    the round that nothing runs beside is the shortest one. The other wheels go largest first,
    so the big ones start early and the last files in flight are small ones (longest first,
    the classic rule for independent jobs on a few workers, ends within a third of the best
    any order can do; a given order can end a whole file later). Ties keep the order given."""
    wheels = sorted(
        (pair for pair in files if pair[1].kind == "wheel"),
        key=lambda pair: pair[1].size,
        reverse=True,  # stable: equal sizes keep their order
    )
    rest = [pair for pair in files if pair[1].kind != "wheel"]
    batches = [batch for batch in (wheels, rest) if batch]
    if first_alone and batches and len(batches[0]) > 1:
        first = batches[0]
        smallest = min(range(len(first)), key=lambda i: first[i][1].size)  # the first of equals
        batches[0:1] = [[first[smallest]], first[:smallest] + first[smallest + 1 :]]
    return batches


def upload_files(
    files: Sequence[tuple[Path, DistFile]],
    *,
    index: IndexSettings,
    credential: Credential,
    project: str,
    reporter: Reporter,
    policy: RetryPolicy,
    timeout: float,
    concurrency: int,
    first_alone: bool,
    wait: float,
    extra_fields: Mapping[str, Sequence[tuple[str, str]]] | None = None,
) -> list[UploadResult]:
    """Upload ``files`` (already cleared by the guard), ``concurrency`` at a time, in the
    order of :func:`upload_batches`: the wheels, then the rest once every wheel is up; with
    ``first_alone`` (a new project or release is created once) the smallest wheel alone
    first. Every file's private copy is made before the first is sent, the sdist's too: a
    file changed during the upload is sent as it was hashed, or not at all. ``extra_fields``
    (filename -> form fields) go with each file, e.g. its attestations."""
    uploader = _Uploader(
        _Sender(index, credential, timeout),
        index,
        credential,
        project,
        reporter,
        policy,
        timeout,
        wait,
        extra_fields or {},
    )
    workers = max(1, min(concurrency, len(files)))
    # One pool for every batch: a thread keeps its session, so the files after the first, and
    # the sdist after the wheels, go out on connections already open (no new TLS handshake).
    try:
        with (
            private_copies(files) as copies,  # the bytes sent are the bytes hashed
            concurrent.futures.ThreadPoolExecutor(workers, "nox-release-upload") as pool,
        ):
            results: list[UploadResult] = []
            for batch in upload_batches(copies, first_alone=first_alone):
                results += _concurrently(pool, uploader.one, batch)
            return results
    finally:
        uploader.sender.close()


def probe_auth(index: IndexSettings, credential: Credential, *, timeout: float) -> AuthAnswer:
    """POST an upload form without a file: the index answers whether it knows the credential."""
    from .checklist import AuthAnswer

    encoder = MultipartEncoder(fields=[(":action", "file_upload"), ("protocol_version", "1")])
    with http.make_session("doctor") as session:
        try:
            answer = http.exchange(
                session,
                "POST",
                index.upload_url,
                limits=http.Limits.short(timeout),
                data=encoder,
                headers={"Content-Type": encoder.content_type},
                auth=credential.get(),
            )
        except Transient as exc:
            return AuthAnswer(None, exc.short, "")
    return AuthAnswer(answer.status, answer.reason, answer.shown_text[:2000])

"""Bounded retries with exponential backoff and full jitter, honouring Retry-After.

Safe for uploads because the guard re-reads the index and compares hashes before deciding
anything: a retry never sends a file the index already holds.
"""

from __future__ import annotations

__all__ = [
    "RetryPolicy",
    "Transient",
    "backoff_delay",
    "is_transient_status",
    "parse_retry_after",
    "retry_call",
]

import dataclasses
import email.utils
import random
import re
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from .config import Settings

T = TypeVar("T")

_DELTA_SECONDS = re.compile(r"[0-9]{1,10}")  # ASCII digits only: str.isdigit() takes "²"


class Transient(Exception):
    """A failure worth another attempt (connection error, timeout, :func:`is_transient_status`).

    ``unresolved_host``: the failure is a host name that does not resolve (DNS); retries of it
    back off longer (:func:`backoff_delay`) and messages name it as such.
    """

    def __init__(
        self, what: str, retry_after: float | None = None, *, unresolved_host: str | None = None
    ) -> None:
        super().__init__(what)
        self.what = what
        self.retry_after = retry_after
        self.unresolved_host = unresolved_host

    @property
    def short(self) -> str:
        """What failed, in a few words: the DNS failure named, else the exception's name."""
        if self.unresolved_host:
            return f"the name {self.unresolved_host} does not resolve (DNS)"
        return self.what.split(" ", 1)[0]


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base: float = 0.5
    max_wait: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            attempts=max(1, int(settings.get("retries"))),
            max_wait=float(settings.get("retry-max-wait")),
        )


def is_transient_status(status: int) -> bool:
    """True for answers worth another attempt: 408 Request Timeout, 425 Too Early, 429 Too Many
    Requests and any 5xx. The one rule: reads, uploads, doctor and diagnose all ask here. Pure."""
    return status in (408, 425, 429) or 500 <= status <= 599


def backoff_delay(
    attempt: int,
    policy: RetryPolicy,
    retry_after: float | None,
    rand: Callable[[], float],
    *,
    dns: bool = False,
) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (attempt counts from 1). Pure.

    Full jitter (AWS architecture blog): uniform in [0, min(max_wait, base * 2**(attempt-1))].
    A server's Retry-After is honoured as a floor, capped by max_wait.
    A name that does not resolve (``dns``) is not a busy server: a resolver or a network
    coming up needs seconds, not milliseconds. Its waits start one step later and never below
    half the ceiling (equal jitter): 0.5-1, 1-2, 2-4, 4-8 s with the defaults, 7.5 s at least
    over five attempts, where full jitter could spend under 2 s.
    """
    if dns:
        ceiling = min(policy.max_wait, policy.base * (2**attempt))
        delay = ceiling / 2 + ceiling / 2 * rand()
    else:
        ceiling = min(policy.max_wait, policy.base * (2 ** (attempt - 1)))
        delay = ceiling * rand()
    if retry_after is not None:
        delay = max(delay, min(retry_after, policy.max_wait))
    return float(delay)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date (RFC 9110). Pure."""
    if not value:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = datetime.now(timezone.utc).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)


def retry_call(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    on_retry: Callable[[int, float, Transient], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rand: Callable[[], float] = random.random,
) -> T:
    """Call ``fn`` until it returns; retry on :class:`Transient` up to ``policy.attempts``.

    The last Transient is re-raised when attempts run out; the caller turns it into a
    ReleaseError that says what to do.
    """
    attempt = 1
    while True:
        try:
            return fn()
        except Transient as exc:
            if attempt >= policy.attempts:
                raise
            delay = backoff_delay(
                attempt, policy, exc.retry_after, rand, dns=exc.unresolved_host is not None
            )
            if on_retry is not None:
                on_retry(attempt, delay, exc)
            sleep(delay)
            attempt += 1

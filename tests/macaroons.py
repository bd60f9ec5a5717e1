"""PyPI tokens built byte by byte for the tests: pymacaroons' v2 binary format, as PyPI mints
them (used by test_tokens.py and by the OIDC double's mint endpoint)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence

from release import endpoints

__all__ = ["make_token"]


# --------------------
def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(kind: int, data: bytes) -> bytes:
    return _varint(kind) + _varint(len(data)) + data


def make_token(
    location: str | None = endpoints.PYPI_HOST,
    caveats: Sequence[object] | None = None,
    *,
    identifier: bytes = b"00000000-1111-2222-3333-444444444444",
    key: bytes = b"test key, not a secret",
    trailing: bytes = b"",
    vid_on: tuple[int, ...] = (),
    signature_length: int = 32,
) -> str:
    """A PyPI token: caveats are JSON values (or bytes, sent as they are)."""
    raw = bytearray([2])
    if location is not None:
        raw += _field(1, location.encode())
    raw += _field(2, identifier) + b"\x00"
    signature = hmac.new(key, identifier, hashlib.sha256).digest()
    for number, caveat in enumerate(caveats or []):
        cid = caveat if isinstance(caveat, bytes) else json.dumps(caveat).encode()
        raw += _field(2, cid)
        if number in vid_on:
            raw += _field(4, b"v" * 40)
        raw += b"\x00"
        signature = hmac.new(signature, cid, hashlib.sha256).digest()
    raw += b"\x00" + _field(6, signature[:signature_length]) + trailing
    return "pypi-" + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")

"""PURE PEP 440 arithmetic: bumps and the next free version. No I/O."""

from __future__ import annotations

__all__ = ["next_free_version", "successor"]

from collections.abc import Iterable

from packaging.version import Version


def _with(v: Version, **parts: object) -> Version:
    """Rebuild ``v`` with some parts replaced (epoch always kept)."""
    epoch = parts.get("epoch", v.epoch)
    release = parts.get("release", v.release)
    pre = parts.get("pre", v.pre)
    post = parts.get("post", v.post)
    dev = parts.get("dev", v.dev)
    text = f"{epoch}!" if epoch else ""
    text += ".".join(str(x) for x in release)  # type: ignore[attr-defined]
    if pre is not None:
        text += f"{pre[0]}{pre[1]}"  # type: ignore[index]
    if post is not None:
        text += f".post{post}"
    if dev is not None:
        text += f".dev{dev}"
    return Version(text)


def successor(v: Version) -> Version:
    """The next version of the same kind: dev -> dev+1, pre -> pre+1, post -> post+1,
    final -> patch+1. Always greater than ``v``; the local part is dropped."""
    if v.dev is not None:
        return _with(v, dev=v.dev + 1)
    if v.pre is not None:
        return _with(v, pre=(v.pre[0], v.pre[1] + 1))
    if v.post is not None:
        return _with(v, post=v.post + 1)
    release = list(v.release) + [0] * (3 - len(v.release))
    release[2] += 1
    return _with(v, release=tuple(release))


def next_free_version(current: Version, taken: Iterable[Version]) -> Version:
    """The first :func:`successor` of ``current`` that no index holds."""
    used = set(taken)
    candidate = successor(Version(current.public))
    while candidate in used:
        candidate = successor(candidate)
    return candidate

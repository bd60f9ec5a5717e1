"""PURE PEP 440 arithmetic: bumps and the next free version. No I/O.

A SPEC is a part (``major``, ``minor``, ``patch``, ``alpha``, ``beta``, ``rc``, ``post``,
``dev``, ``release``), parts chained with commas (``minor,rc``), or an explicit version.

The rules follow npm's ``semver.inc`` (also Poetry's ``poetry version``), the most widely met
precedent, translated to PEP 440 where a ``.devN`` suffix, like a pre-release, marks a version
that comes *before* the one without it:

* A release part (``major``/``minor``/``patch``) alone gives the smallest release of that kind
  above the current version: it *finishes* a pre-release or dev release of exactly that release
  (``patch`` on ``1.2.3rc1`` -> ``1.2.3``, ``minor`` on ``1.3.0rc1`` -> ``1.3.0``) and otherwise
  increments (``patch`` on ``1.2.3`` -> ``1.2.4``, ``minor`` on ``1.2.3rc1`` -> ``1.3.0``).
  Followed by another part it always opens the next release (``minor,rc`` on ``1.3.0rc1`` ->
  ``1.4.0rc1``), like npm's ``preminor``.
* ``alpha``/``beta``/``rc``: the next number of the same phase (``rc1`` -> ``rc2``), or number 1
  of a later phase (``a2`` -> ``b1``); a dev release of it is finished (``rc1.dev2`` -> ``rc1``).
* ``post``: ``.post1``, or the next post number; ``dev``: ``.dev1``, or the next dev number.
* ``release``: drop the pre-release and dev segments (``1.2.0rc2`` -> ``1.2.0``).
* Numbers start at 1. The epoch is always kept; a local label (``+abc``) is always dropped.
* The result must be greater than the current version, or the bump is refused, with SPECs that
  would work (``rc`` on ``1.2.4`` would be ``1.2.4rc1``, *below* 1.2.4: use ``patch,rc``).
"""

from __future__ import annotations

__all__ = [
    "ALIASES",
    "PARTS",
    "Spec",
    "bump",
    "next_free_version",
    "parse_spec",
    "parse_version",
    "successor",
]

import dataclasses
import itertools
from collections.abc import Container

from packaging.version import InvalidVersion, Version

from .errors import ConfigError

PARTS: tuple[str, ...] = (
    "major",
    "minor",
    "patch",
    "alpha",
    "beta",
    "rc",
    "post",
    "dev",
    "release",
)
# Hatch's spellings of the same parts (``hatch version``), accepted so its users need not relearn.
ALIASES: dict[str, str] = {
    "micro": "patch",
    "fix": "patch",
    "a": "alpha",
    "b": "beta",
    "c": "rc",
    "pre": "rc",
    "preview": "rc",
    "r": "post",
    "rev": "post",
}
_LEVEL = {"major": 0, "minor": 1, "patch": 2}
_PHASE = {"alpha": "a", "beta": "b", "rc": "rc"}
# Where a part may stand in a chain: release level, then pre-release, then post, then dev.
_RANK = {"major": 0, "minor": 0, "patch": 0, "alpha": 1, "beta": 1, "rc": 1, "post": 2, "dev": 3}


@dataclasses.dataclass(frozen=True)
class Spec:
    """What to bump to: parts applied left to right, or one explicit version."""

    text: str
    parts: tuple[str, ...] = ()
    explicit: Version | None = None


def parse_version(text: str, where: str = "") -> Version:
    """``text`` as a PEP 440 version, or a ConfigError that echoes it."""
    try:
        return Version(text)
    except InvalidVersion:
        origin = f" (in {where})" if where else ""
        raise ConfigError(
            f"{text!r}{origin} is not a valid PEP 440 version.",
            "Write it like 1.2.3, 1.2.3rc1, 1.2.3.post1 or 1.2.3.dev1 "
            "(see https://packaging.python.org/en/latest/specifications/version-specifiers/).",
        ) from None


def parse_spec(text: str) -> Spec:
    """A SPEC as typed: ``minor``, ``minor,rc``, ``2.0.0b1``. Raises ConfigError on bad input."""
    cleaned = text.strip()
    if not cleaned:
        raise ConfigError("No SPEC given.", _spec_help())
    tokens = [t.strip().lower() for t in cleaned.split(",")]
    if all(t in PARTS or t in ALIASES for t in tokens):
        parts = tuple(ALIASES.get(t, t) for t in tokens)
        _check_chain(parts, cleaned)
        return Spec(text=cleaned, parts=parts)
    if len(tokens) > 1:
        unknown = [t for t in tokens if t not in PARTS and t not in ALIASES]
        raise ConfigError(f"Unknown part(s) in {cleaned!r}: {', '.join(unknown)}.", _spec_help())
    try:
        version = Version(cleaned)
    except InvalidVersion:
        raise ConfigError(
            f"{cleaned!r} is neither a part nor a valid PEP 440 version.", _spec_help()
        ) from None
    if version.local is not None:
        raise ConfigError(
            f"{cleaned!r} has a local version label (+{version.local}); "
            "PyPI and TestPyPI refuse local versions.",
            f"Use the public part: {version.public}.",
        )
    return Spec(text=cleaned, explicit=version)


def _spec_help() -> str:
    return (
        f"Give a part ({', '.join(PARTS)}), parts chained in that order with commas "
        "(e.g. minor,rc), or an explicit PEP 440 version (e.g. 2.0.0)."
    )


def _check_chain(parts: tuple[str, ...], text: str) -> None:
    if "release" in parts and len(parts) > 1:
        raise ConfigError(
            f"{text!r}: 'release' drops the pre-release and dev segments and cannot be chained.",
            "Use 'release' alone.",
        )
    ranks = [_RANK[p] for p in parts if p != "release"]
    if any(b <= a for a, b in itertools.pairwise(ranks)):
        raise ConfigError(
            f"{text!r}: parts must be chained from the largest to the smallest, each kind once "
            "(one of major/minor/patch, then one of alpha/beta/rc, then post, then dev).",
            "Reorder them, e.g. minor,rc or patch,dev.",
        )


def _with(v: Version, **parts: object) -> Version:
    """Rebuild ``v`` with some parts replaced (epoch always kept, local always dropped)."""
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


def _previews_release(v: Version) -> bool:
    """True when ``v`` comes before its own release segment (a pre-release or a dev release)."""
    return v.pre is not None or (v.dev is not None and v.post is None)


def _bump_release(v: Version, level: int, opening: bool) -> Version:
    width = max(len(v.release), level + 1)
    release = list(v.release) + [0] * (width - len(v.release))
    if not opening and _previews_release(v) and not any(release[level + 1 :]):
        return _with(v, release=tuple(release), pre=None, post=None, dev=None)
    release[level] += 1
    release[level + 1 :] = [0] * (width - level - 1)
    return _with(v, release=tuple(release), pre=None, post=None, dev=None)


def _bump_pre(v: Version, phase: str, opening: bool) -> Version:
    if v.pre is not None and v.pre[0] == phase:
        if not opening and v.dev is not None and v.post is None:
            return _with(v, dev=None)
        return _with(v, pre=(phase, v.pre[1] + 1), post=None, dev=None)
    return _with(v, pre=(phase, 1), post=None, dev=None)


def _bump_post(v: Version, opening: bool) -> Version:
    if v.post is not None:
        if not opening and v.dev is not None:
            return _with(v, dev=None)
        return _with(v, post=v.post + 1, dev=None)
    return _with(v, post=1, dev=None)


def _apply(v: Version, part: str, opening: bool) -> Version:
    if part in _LEVEL:
        return _bump_release(v, _LEVEL[part], opening)
    if part in _PHASE:
        return _bump_pre(v, _PHASE[part], opening)
    if part == "post":
        return _bump_post(v, opening)
    if part == "dev":
        return _with(v, dev=1 if v.dev is None else v.dev + 1)
    if part == "release":
        if v.pre is not None:
            return _with(v, pre=None, post=None, dev=None)
        return _with(v, dev=None)
    raise ConfigError(f"Unknown part {part!r}.", _spec_help())  # parse_spec stops this earlier


def _apply_parts(current: Version, parts: tuple[str, ...]) -> Version:
    v = Version(current.public)
    for i, part in enumerate(parts):
        v = _apply(v, part, opening=i < len(parts) - 1)
    return v


def _alternatives(current: Version, spec: Spec) -> list[str]:
    """SPECs near the refused one that do go up, as ``spec (-> version)``."""
    tail = tuple(p for p in spec.parts if p not in _LEVEL and p != "release")
    heads: list[tuple[str, ...]] = [("patch",), ("minor",), ("major",)]
    if current.pre is not None and not any(p in _PHASE for p in tail):
        phase = {v: k for k, v in _PHASE.items()}[current.pre[0]]
        heads.insert(0, (phase,))  # dev on 1.2.0rc1 -> rc,dev (1.2.0rc2.dev1)
    out = []
    for head in heads:
        parts = (*head, *tail)
        candidate = _apply_parts(current, parts)
        if candidate > current:
            out.append(f"{','.join(parts)} (-> {candidate})")
    return out


def bump(current: Version, spec: Spec | str) -> Version:
    """The version ``spec`` asks for, starting from ``current``; always greater than it.

    Raises ConfigError (with SPECs that would work) when the result would not be greater.
    """
    if isinstance(spec, str):
        spec = parse_spec(spec)
    if spec.explicit is not None:
        result = spec.explicit
        if result <= current:
            word = "equal to" if result == current else "below"
            raise ConfigError(
                f"{result} is {word} the current version {current}: a bump never goes backwards.",
                f"Name a version above {current}, or a part: "
                + ", ".join(_alternatives(current, Spec(text="patch", parts=("patch",)))),
            )
        return result
    result = _apply_parts(current, spec.parts)
    if result <= current:
        if spec.parts == ("release",):
            why = f"{current} has no pre-release or dev segment to drop"
        elif result == current:
            why = f"{spec.text!r} on {current} gives {result}, the same version"
        else:
            why = (
                f"{spec.text!r} on {current} gives {result}, which sorts below it "
                "(a pre-release or dev release comes before its release)"
            )
        raise ConfigError(
            f"{why}: a bump never goes backwards.",
            f"Use a SPEC that goes up from {current}: "
            + ", ".join(_alternatives(current, spec))
            + ".",
        )
    return result


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


def next_free_version(current: Version, taken: Container[Version]) -> Version:
    """The first :func:`successor` of ``current`` that no index holds (``taken``: any
    container, such as an index's compact :class:`~release.indexstate.VersionSet`)."""
    candidate = successor(Version(current.public))
    while candidate in taken:
        candidate = successor(candidate)
    return candidate

"""PURE decision: local manifest x index state -> upload / skip identical / refuse.

No I/O here: the caller reads the index (:mod:`release.index`) and passes what it found.
The promise it keeps: a version the index already holds with any file that is not ours,
byte for byte, is refused before a byte is sent.
"""

from __future__ import annotations

__all__ = ["Fate", "FilePlan", "Plan", "Rules", "Verdict", "decide", "examples", "file_key"]

import dataclasses
import enum
from collections.abc import Hashable
from collections.abc import Set as AbstractSet
from datetime import datetime, timezone

from packaging.utils import canonicalize_name
from packaging.version import Version

from . import pypi_rules
from .endpoints import Warehouse
from .indexstate import IndexFile, IndexState, file_key, versions_named
from .manifest import DistFile, Manifest
from .pypi_rules import RELEASE_FILE_WINDOW, Finding
from .versions import next_free_version


class Fate(enum.Enum):
    UPLOAD = "upload"
    PRESENT = "already there, identical"
    REFUSE = "refused"


class Verdict(enum.Enum):
    UPLOAD = "upload"  # at least one file to send, none refused
    NOTHING_TO_DO = "nothing to do"  # every file already there, byte for byte
    REFUSED = "refused"  # nothing is sent


@dataclasses.dataclass(frozen=True)
class FilePlan:
    filename: str
    fate: Fate
    why: str


@dataclasses.dataclass(frozen=True)
class Rules:
    """What the target index is and what the user allowed."""

    warehouse: Warehouse | None = None  # PyPI or TestPyPI, None for other indexes
    is_prod: bool = False
    allow_dev: bool = False
    now: datetime | None = None  # for the 14-day rule; None skips it
    other_versions: AbstractSet[Version] = frozenset()  # taken elsewhere (the other index)
    # index-rules = "pypi": hold this index to PyPI's rules (Warehouse hosts always are)
    pypi_rules: bool = False
    # what release.pypi_rules.check_files found in the files (errors refuse the version)
    findings: tuple[Finding, ...] = ()

    @property
    def applies_pypi(self) -> bool:
        """PyPI's upload rules apply: a Warehouse index, or ``index-rules = "pypi"``."""
        return self.warehouse is not None or self.pypi_rules

    @property
    def who(self) -> str:
        """Who refuses, in messages: the Warehouse's name, or PyPI (by index-rules)."""
        return self.warehouse.value if self.warehouse else 'PyPI (index-rules = "pypi")'


@dataclasses.dataclass(frozen=True)
class Plan:
    project: str
    version: str
    index_url: str
    verdict: Verdict
    files: tuple[FilePlan, ...]
    reasons: tuple[str, ...] = ()  # why the whole version is refused
    next_free: Version | None = None
    warnings: tuple[str, ...] = ()
    fix: str = ""  # what to do about a refusal (empty unless refused)

    @property
    def to_upload(self) -> tuple[str, ...]:
        return tuple(f.filename for f in self.files if f.fate is Fate.UPLOAD)

    def to_json(self) -> dict[str, object]:
        return {
            "project": self.project,
            "version": self.version,
            "index_url": self.index_url,
            "verdict": self.verdict.value,
            "files": [
                {"filename": f.filename, "fate": f.fate.value, "why": f.why} for f in self.files
            ],
            "reasons": list(self.reasons),
            "next_free_version": str(self.next_free) if self.next_free else None,
            "warnings": list(self.warnings),
            "fix": self.fix,
        }


BUMP_FIX = (
    "Versions on an index are immutable: release a new version ({next}), "
    "then build and release again."
)


def _bump_fix(next_free: Version | None) -> str:
    if next_free is None:
        return BUMP_FIX.format(next="bump it with `nox -s bump_version -- patch`")
    return BUMP_FIX.format(
        next=f"the next free one is {next_free}: `nox -s bump_version -- {next_free}`"
    )


def _taken(manifest: Manifest, state: IndexState, rules: Rules) -> AbstractSet[Version]:
    """Every version held somewhere (a compact set: an index may hold 200,000)."""
    return state.versions | rules.other_versions | {manifest.parsed_version}


def _refuse_all(
    manifest: Manifest,
    state: IndexState,
    rules: Rules,
    reasons: list[str],
    files: dict[str, str] | None = None,
    warnings: tuple[str, ...] = (),
    *,
    next_free: Version | None = None,
    suggest: bool = True,
    fix: str | None = None,
) -> Plan:
    per_file = files or {}
    if next_free is None and suggest:
        next_free = next_free_version(manifest.parsed_version, _taken(manifest, state, rules))
    return Plan(
        project=manifest.name,
        version=manifest.version,
        index_url=state.index_url,
        verdict=Verdict.REFUSED,
        files=tuple(
            FilePlan(
                f.filename,
                Fate.REFUSE,
                per_file.get(f.filename, f"refused with the rest of {manifest.version}"),
            )
            for f in manifest.files
        ),
        reasons=tuple(reasons),
        next_free=next_free,
        warnings=warnings,
        fix=fix if fix is not None else _bump_fix(next_free),
    )


EXAMPLES = 3  # a long list of like items is a count and this many examples


def examples(items: list[str]) -> str:
    """``e.g. a, b, c and 60 more`` for a long list; the whole list when it is short."""
    if len(items) <= EXAMPLES:
        return ", ".join(items)
    return f"e.g. {', '.join(items[:EXAMPLES])} and {len(items) - EXAMPLES} more"


def _foreign_reasons(foreign: list[str], version: Version) -> list[str]:
    """Files of this version on the index that are not ours: each named, or a count."""
    if len(foreign) <= EXAMPLES:
        return [f"{fn} is on the index but was not built by this release" for fn in foreign]
    return [
        f"{len(foreign)} files of {version} are on the index but were not built by this "
        f"release ({examples(foreign)})"
    ]


def _aware(moment: datetime) -> datetime:
    """A datetime without a zone is taken as UTC (what every index serves)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _same_sha(a: str | None, b: str) -> bool:
    return a is not None and a.lower() == b.lower()


def _version_rules(manifest: Manifest, state: IndexState, rules: Rules) -> Plan | None:
    """PyPI's rules on the version and the files (pypi_rules), before the index's files."""
    version = manifest.parsed_version
    local = pypi_rules.local_version_problem(version, rules.who) if rules.applies_pypi else None
    if local is not None:
        public = Version(version.public)
        taken = _taken(manifest, state, rules)
        suggestion = public if public not in taken else next_free_version(public, taken)
        return _refuse_all(
            manifest,
            state,
            rules,
            [local.message],
            next_free=suggestion,
            fix=f"Drop the local label (+{version.local}): set the version to {suggestion}, "
            "build and release again. Local versions are for private indexes only.",
        )
    dev = pypi_rules.dev_release_problem(version, is_prod=rules.is_prod, allow_dev=rules.allow_dev)
    if dev is not None:
        return _refuse_all(manifest, state, rules, [dev.message], suggest=False, fix=dev.fix)
    findings = [*rules.findings, *_name_findings(manifest, state, rules)]
    refusing = pypi_rules.errors(findings) if rules.applies_pypi else []
    if not refusing:
        return None
    per_file = {f.filename: f"{rules.who} refuses it: {f.rule}" for f in refusing if f.filename}
    return _refuse_all(
        manifest,
        state,
        rules,
        [f.message for f in refusing],
        per_file,
        suggest=False,
        fix=" ".join(dict.fromkeys(f.fix for f in refusing)),
    )


def _name_findings(manifest: Manifest, state: IndexState, rules: Rules) -> list[Finding]:
    """A new project named like a stdlib module: PyPI refuses to create it. Only a Warehouse
    read says whether the project is new there, so elsewhere it is a warning."""
    if not (rules.applies_pypi and not state.exists):
        return []
    name = pypi_rules.stdlib_name_problem(manifest.name)
    if name is None:
        return []
    return [name if rules.warehouse else dataclasses.replace(name, level="warning")]


def decide(manifest: Manifest, state: IndexState, rules: Rules) -> Plan:
    """The fate of every file of ``manifest`` on the index described by ``state``."""
    plan = _decide(manifest, state, rules)
    release_level = [f for f in rules.findings if f.rule in pypi_rules.RELEASE_RULES]
    found = [*_name_findings(manifest, state, rules), *release_level]
    notes = tuple(f.message for f in pypi_rules.warnings(found))
    return dataclasses.replace(plan, warnings=plan.warnings + notes) if notes else plan


def _compare(
    manifest: Manifest, remote: tuple[IndexFile, ...], unreadable: list[str]
) -> tuple[dict[str, IndexFile], list[str], dict[str, str]]:
    """Our files against the index's files of the version: (our filename -> its identical
    twin, reasons to refuse, our filename -> its fate when refused)."""
    version = manifest.parsed_version
    ours_by_key: dict[Hashable, DistFile] = {}
    for f in manifest.files:
        key = file_key(f.filename)
        ours_by_key[key if key is not None else f.filename] = f
    matched: dict[str, IndexFile] = {}
    reasons = [
        f"{name} is on the index and its version cannot be read, but its name says "
        f"{version}: it may be a file of this release that is not ours"
        for name in unreadable
    ]
    per_file: dict[str, str] = {}
    foreign: list[str] = []
    for rf in remote:
        key = file_key(rf.filename)
        ours = ours_by_key.get(key if key is not None else rf.filename)
        if ours is None:
            foreign.append(rf.filename)
        elif rf.sha256 is None:
            reasons.append(
                f"{rf.filename} is on the index without a sha256, so it cannot be "
                "proved identical to ours"
            )
            per_file[ours.filename] = "on the index, hash unknown"
        elif not _same_sha(rf.sha256, ours.sha256):
            reasons.append(
                f"{rf.filename} is on the index with other bytes "
                f"(index sha256 {rf.sha256[:12].lower()}…, ours {ours.sha256[:12]}…)"
            )
            per_file[ours.filename] = "on the index with other bytes"
        else:
            matched[ours.filename] = rf
            per_file[ours.filename] = "identical there; the version is refused"
    return matched, reasons + _foreign_reasons(foreign, version), per_file


def _resume_refusal(
    manifest: Manifest,
    rules: Rules,
    remote: tuple[IndexFile, ...],
    *,
    yanked: bool,
) -> str | None:
    """Why files may not be added to a release already on the index, if they may not."""
    version = manifest.parsed_version
    if yanked:
        return (
            f"{version} is yanked on the index; adding files to a yanked release would "
            "offer them to nobody (installers skip yanked versions)"
        )
    if rules.now is None or not rules.applies_pypi:
        return None
    times = [_aware(rf.upload_time) for rf in remote if rf.upload_time is not None]
    if times and _aware(rules.now) - min(times) > RELEASE_FILE_WINDOW:
        first = min(times).astimezone(timezone.utc)  # the date PyPI shows, whatever the zone
        return (
            f"{version} was first uploaded on {first:%Y-%m-%d}, more than 14 days "
            f"ago; {rules.who} refuses new files in releases older than 14 days"
        )
    return None


def _present_as(ours: str, theirs: str) -> str:
    """Why a file is "already there, identical": nothing more to say under its own name."""
    return "" if ours == theirs else f"on the index as {theirs}"


def _decide(manifest: Manifest, state: IndexState, rules: Rules) -> Plan:
    version = manifest.parsed_version
    if canonicalize_name(manifest.name) != state.project:
        return _refuse_all(
            manifest,
            state,
            rules,
            [
                f"the index was read for {state.project!r} but the manifest is for "
                f"{canonicalize_name(manifest.name)!r}"
            ],
            suggest=False,
            fix="Run the upload from the project that built dist/ (its pyproject.toml names "
            "the project that is read on the index).",
        )
    early = _version_rules(manifest, state, rules)
    if early is not None:
        return early

    # Files whose version the index does not tell (odd old filenames): if the name mentions
    # our version, it may be a file of this release, and an unknown file is never ours.
    unreadable = [
        f.filename
        for f in state.files
        if f.version is None and version in versions_named(f.filename)
    ]
    remote = state.files_for(version)
    if not remote and not unreadable:
        return Plan(
            project=manifest.name,
            version=manifest.version,
            index_url=state.index_url,
            verdict=Verdict.UPLOAD,
            files=tuple(
                FilePlan(f.filename, Fate.UPLOAD, f"{version} is not on the index yet")
                for f in manifest.files
            ),
        )

    matched, reasons, per_file = _compare(manifest, remote, unreadable)
    yanked = sorted(rf.filename for rf in remote if rf.yanked)
    warnings: tuple[str, ...] = ()
    if yanked:
        warnings = (f"{version} is yanked on {state.index_url}: {', '.join(yanked)}",)
    if reasons:
        return _refuse_all(manifest, state, rules, reasons, per_file, warnings)
    missing = [f for f in manifest.files if f.filename not in matched]
    if missing:
        late = _resume_refusal(manifest, rules, remote, yanked=bool(yanked))
        if late is not None:
            return _refuse_all(manifest, state, rules, [late], warnings=warnings)

    files = tuple(
        FilePlan(f.filename, Fate.PRESENT, _present_as(f.filename, matched[f.filename].filename))
        if f.filename in matched
        else FilePlan(f.filename, Fate.UPLOAD, f"{version} is there, this file is missing (resume)")
        for f in manifest.files
    )
    return Plan(
        project=manifest.name,
        version=manifest.version,
        index_url=state.index_url,
        verdict=Verdict.UPLOAD if missing else Verdict.NOTHING_TO_DO,
        files=files,
        warnings=warnings,
    )

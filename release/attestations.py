"""PEP 740 attestations beside the distributions: find them, check what they attest, send them.

An attestation of ``dist/demo-1.0.tar.gz`` is ``dist/demo-1.0.tar.gz.<kind>.attestation``
(``publish`` from pypa/gh-action-pypi-publish or from :mod:`release.signing`; PEP 740 allows
other kinds, e.g. ``slsa``): a JSON object whose in-toto statement names one subject, the
file's name and sha256. twine (``upload --attestations``) and uv send them in the upload form's
``attestations`` field as a JSON array; so do we, with each file's JSON text verbatim.

An attestation whose subject is not the manifest's file, byte for byte, is never sent: it
belongs to another build (a stale ``dist/`` reused), and PyPI would refuse the upload for it.
Parsing uses pypi-attestations' model (imported on use: it pulls in sigstore).
"""

from __future__ import annotations

__all__ = [
    "SUFFIX",
    "AttestationFile",
    "all_attestations",
    "attestations_for",
    "check_folder",
    "check_predicates",
    "collect",
    "form_field",
    "has_publish",
    "load_for",
    "statement_of",
    "stray_attestations",
    "subject_of",
]

import dataclasses
import hashlib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from .errors import DistError
from .manifest import DistFile
from .paths import read_capped

SUFFIX = ".attestation"
FIELD = "attestations"
_KIND = re.compile(r"[a-z0-9][a-z0-9_-]*")
_STALE_FIX = (
    "Remove the attestation files from dist/ (they belong to another build of these files); "
    "in CI, upload_test and upload_prod make fresh ones for the bytes they send."
)


@dataclasses.dataclass(frozen=True)
class AttestationFile:
    name: str  # e.g. demo-1.0.tar.gz.publish.attestation
    kind: str  # publish, slsa, ...
    sha256: str  # of the attestation file itself
    text: str  # its JSON, verbatim (surrounding whitespace removed)
    predicate_type: str = ""  # e.g. https://docs.pypi.org/attestations/publish/v1


def _kind(filename: str, candidate: str) -> str | None:
    """``publish`` for ``<filename>.publish.attestation``, else None. Pure."""
    prefix = filename + "."
    if not (candidate.startswith(prefix) and candidate.endswith(SUFFIX)):
        return None
    kind = candidate[len(prefix) : -len(SUFFIX)]
    return kind if _KIND.fullmatch(kind) else None


def _names(folder: Path) -> list[str]:
    """The attestation files directly in ``folder``, by name, sorted: one listing, and a stat
    only for a name that ends in the suffix (dist/ of a matrix holds many files)."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(SUFFIX) and p.is_file())


def attestations_for(folder: Path, filename: str, names: Sequence[str] | None = None) -> list[Path]:
    """The attestation files of ``filename`` in ``folder``, sorted by name (``names``: the
    folder's listing, when the caller already has it)."""
    listed = _names(folder) if names is None else names
    return [folder / n for n in listed if _kind(filename, n) is not None]


PUBLISH = "https://docs.pypi.org/attestations/publish/v1"


def subject_of(data: bytes) -> tuple[str, str]:
    """(name, sha256) of the one subject an attestation's statement names; ValueError when it
    is not a PEP 740 attestation with exactly one sha256-named subject."""
    name, sha256, _ = statement_of(data)
    return name, sha256


def statement_of(data: bytes) -> tuple[str, str, str]:
    """(subject name, subject sha256, predicate type) of an attestation; ValueError otherwise."""
    from pydantic import ValidationError
    from pypi_attestations import Attestation

    try:
        statement = Attestation.model_validate_json(data).statement
    except (ValidationError, ValueError) as exc:
        raise ValueError(f"not a PEP 740 attestation ({type(exc).__name__})") from None
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or len(subjects) != 1 or not isinstance(subjects[0], dict):
        raise ValueError("its statement does not name exactly one subject")
    name, digest = subjects[0].get("name"), subjects[0].get("digest")
    sha256 = digest.get("sha256") if isinstance(digest, dict) else None
    if not isinstance(name, str) or not isinstance(sha256, str):
        raise ValueError("its subject has no name or no sha256")
    return name, sha256.lower(), str(statement.get("predicateType", ""))


def load_for(
    folder: Path, entry: DistFile, names: Sequence[str] | None = None
) -> list[AttestationFile]:
    """The attestations of ``entry`` in ``folder``, each checked to attest exactly its bytes."""
    found: list[AttestationFile] = []
    for path in attestations_for(folder, entry.filename, names):
        try:
            data = read_capped(path)
        except OSError as exc:
            raise DistError(f"{path.name} cannot be read: {exc.strerror}.", _STALE_FIX) from None
        try:
            name, sha256, predicate = statement_of(data)
        except ValueError as exc:
            raise DistError(f"{path.name} cannot be sent: {exc}.", _STALE_FIX) from None
        if name != entry.filename or sha256 != entry.sha256:
            raise DistError(
                f"{path.name} attests {name} with sha256 {sha256[:12]}…, not {entry.filename} "
                f"as built (sha256 {entry.sha256[:12]}…): it belongs to other bytes.",
                _STALE_FIX,
            )
        kind = _kind(entry.filename, path.name) or ""
        text = data.decode("utf-8").strip()
        digest = hashlib.sha256(data).hexdigest()
        found.append(AttestationFile(path.name, kind, digest, text, predicate))
    check_predicates(entry.filename, found)
    return found


def check_predicates(filename: str, files: Sequence[AttestationFile]) -> None:
    """PyPI takes at most one attestation of each predicate type per file (publish, SLSA
    provenance): a DistError naming the duplicates otherwise."""
    seen: dict[str, str] = {}
    for f in files:
        if f.predicate_type in seen:
            raise DistError(
                f"{filename} has two attestations of the same type ({f.predicate_type}): "
                f"{seen[f.predicate_type]} and {f.name}; the index takes one of each type.",
                "Keep one of them in dist/ (in CI a publish attestation is made when there is "
                "none).",
            )
        seen[f.predicate_type] = f.name


def has_publish(files: Sequence[AttestationFile]) -> bool:
    return any(f.predicate_type == PUBLISH for f in files)


def all_attestations(folder: Path) -> list[Path]:
    """Every attestation file directly in ``folder``, sorted."""
    return [folder / n for n in _names(folder)]


def stray_attestations(folder: Path, filenames: Iterable[str]) -> list[str]:
    """Attestation files in ``folder`` that belong to no file of ``filenames``. Pure but for
    the listing."""
    names = list(filenames)
    return [a for a in _names(folder) if not any(_kind(n, a) is not None for n in names)]


def form_field(files: Sequence[AttestationFile]) -> list[tuple[str, str]]:
    """The upload form's ``attestations`` field: a JSON array of the files' JSON, verbatim;
    no field at all without attestations (as twine)."""
    if not files:
        return []
    return [(FIELD, "[" + ",".join(f.text for f in files) + "]")]


def collect(folder: Path, entries: Iterable[DistFile]) -> dict[str, list[AttestationFile]]:
    """filename -> its checked attestations in ``folder`` (files without any are left out)."""
    names = _names(folder)  # listed once, not once a file
    return {e.filename: found for e in entries if (found := load_for(folder, e, names))}


def check_folder(folder: Path, entries: Sequence[DistFile]) -> dict[str, list[AttestationFile]]:
    """Every attestation in ``folder`` belongs to a file of ``entries`` and attests its bytes;
    a DistError naming the others otherwise. What every step that reads dist/ checks."""
    stray = stray_attestations(folder, (e.filename for e in entries))
    if stray:
        raise DistError(
            f"{folder.name}/ holds attestations of files that are not in the manifest: "
            + ", ".join(stray),
            _STALE_FIX,
        )
    return collect(folder, entries)

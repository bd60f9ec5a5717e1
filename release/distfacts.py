"""Read what PyPI's rules need from a built file: its metadata, its members, its structure.

Thin I/O for the pure :mod:`release.pypi_rules` and :mod:`release.pypi_archives`: a wheel's
``<name>-<version>.dist-info/METADATA`` (where PyPI looks for it) or an sdist's
``<top>/PKG-INFO``, the archive's member names (for ``License-File``, the ``.dist-info``
files PyPI needs and "this sdist has compiled code"), and the zip/tar facts PyPI checks
(compression methods and sizes, zip framing, sparse tar members, entry points).
"""

from __future__ import annotations

__all__ = ["read_facts", "stale_versions", "zip_framing_problem"]

import ast
import struct
import tarfile
import zipfile
from pathlib import Path

from .errors import DistError
from .pypi_archives import ArchiveFacts
from .pypi_rules import DistFacts

METADATA_MAX = 16 * 1024 * 1024  # a METADATA/PKG-INFO larger than this is not read
_EOCD = b"PK\x05\x06"  # end of central directory record
_EOCD_SIZE = 22
_DATA_DESCRIPTOR = 0x08  # general purpose flag bit 3


def read_facts(path: Path) -> DistFacts:
    """The :class:`DistFacts` of the wheel or sdist at ``path``."""
    try:
        if path.name.endswith(".whl") or path.name.endswith(".zip"):
            members, metadata, archive = _read_zip(path)
        else:
            members, metadata, archive = _read_tar(path)
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        raise DistError(
            f"{path.name} cannot be read as an archive: {exc}.", "Build it again."
        ) from None
    return DistFacts(path.name, path.stat().st_size, metadata, frozenset(members), archive)


def stale_versions(wheel: Path, version: str) -> list[tuple[str, str]]:
    """``(member, its __version__)`` for each top-level module or package ``__init__.py`` of
    ``wheel`` whose literal ``__version__`` is not ``version`` (compared as PEP 440 versions).

    A bump rewrites the ``__version__`` of the package named like the distribution; one under
    another import name goes stale silently, and the release then reports a wrong version.
    """
    from packaging.version import InvalidVersion, Version

    try:
        wanted: Version | str = Version(version)
    except InvalidVersion:
        wanted = version
    found: list[tuple[str, str]] = []
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            parts = name.split("/")
            top_module = len(parts) == 1 and name.endswith(".py")
            if not (top_module or (len(parts) == 2 and parts[1] == "__init__.py")):
                continue
            if ".dist-info" in parts[0] or ".data" in parts[0]:
                continue
            literal = _version_literal(zf.read(name))
            if literal is not None and _parsed(literal) != wanted:
                found.append((name, literal))
    return found


def _parsed(text: str) -> object:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(text)
    except InvalidVersion:
        return text


def _version_literal(source: bytes) -> str | None:
    """The last module-level ``__version__ = "..."`` string literal, if any."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    value = None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        named = any(isinstance(t, ast.Name) and t.id == "__version__" for t in targets)
        body = getattr(node, "value", None)
        if named and isinstance(body, ast.Constant) and isinstance(body.value, str):
            value = body.value
    return value


def zip_framing_problem(path: Path, zf: zipfile.ZipFile) -> str:
    """The first zip framing problem PyPI's ``utils/zipfiles.py`` refuses ("" for none).

    Hand-written from zipfile's public attributes and the end-of-central-directory record
    (PyPI's check is its own code): data descriptors, comments, duplicate names, and bytes
    after the end of the archive (an archive comment is such bytes to PyPI).
    """
    infos = zf.infolist()
    if any(info.flag_bits & _DATA_DESCRIPTOR for info in infos):
        return "ZIP contains a data descriptor"
    if any(info.comment for info in infos):
        return "Comment in central directory"
    names = [info.orig_filename for info in infos]
    if len(names) != len(set(names)):
        return "Duplicate filename in central directory"
    size = path.stat().st_size
    with path.open("rb") as f:
        f.seek(max(0, size - 65536 - _EOCD_SIZE))
        tail = f.read()
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < _EOCD_SIZE:
        return "Malformed zip file"
    (comment_length,) = struct.unpack("<H", tail[at + 20 : at + 22])
    if comment_length or at + _EOCD_SIZE != len(tail):
        return "Trailing data"
    return ""


def _wheel_info(path: Path) -> str:
    """``<name>-<version>.dist-info``, the two parts taken from the filename as PyPI does."""
    parts = path.name.split("-", 2)
    return f"{parts[0]}-{parts[1]}.dist-info" if len(parts) == 3 else ""


def _zip_metadata(path: Path, zf: zipfile.ZipFile) -> bytes | None:
    wanted = "METADATA" if path.name.endswith(".whl") else "PKG-INFO"
    exact = f"{_wheel_info(path)}/METADATA" if wanted == "METADATA" else ""
    found = [
        info
        for info in zf.infolist()
        if info.filename == exact
        or (not exact and info.filename.count("/") == 1 and info.filename.endswith("/" + wanted))
    ]
    if len(found) != 1 or found[0].file_size > METADATA_MAX:
        return None
    return zf.read(found[0])


def _read_zip(path: Path) -> tuple[list[str], bytes | None, ArchiveFacts]:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        entry_points = f"{_wheel_info(path)}/entry_points.txt"
        archive = ArchiveFacts(
            uncompressed_size=sum(info.file_size for info in zf.infolist()),
            compress_types=frozenset(info.compress_type for info in zf.infolist()),
            zip_problem=zip_framing_problem(path, zf),
            zip_and_tar=_is_tar(path),
            entry_points=zf.read(entry_points) if entry_points in names else None,
        )
        return names, _zip_metadata(path, zf), archive


def _is_tar(path: Path) -> bool:
    try:
        with tarfile.open(path, "r:*") as tf:
            tf.next()
    except (tarfile.TarError, OSError, EOFError):
        return False
    return True


def _read_tar(path: Path) -> tuple[list[str], bytes | None, ArchiveFacts]:
    with tarfile.open(path, "r:*") as tf:
        metadata: bytes | None = None
        names = []
        sparse = []
        for member in tf:
            names.append(member.name)
            if member.issparse():
                sparse.append(member.name)
            if (
                metadata is None
                and member.isfile()
                and member.name.count("/") == 1
                and member.name.endswith("/PKG-INFO")
                and member.size <= METADATA_MAX
            ):
                handle = tf.extractfile(member)
                metadata = handle.read() if handle is not None else None
    archive = ArchiveFacts(sparse_members=tuple(sparse), zip_and_tar=zipfile.is_zipfile(path))
    return names, metadata, archive

"""Read what PyPI's rules need from a built file: its metadata and its member names.

Thin I/O for the pure :mod:`release.pypi_rules`: a wheel's ``*.dist-info/METADATA`` or an
sdist's ``<top>/PKG-INFO``, and the archive's member names (for ``License-File`` and for
"this sdist has compiled code").
"""

from __future__ import annotations

__all__ = ["read_facts"]

import tarfile
import zipfile
from pathlib import Path

from .errors import DistError
from .pypi_rules import DistFacts

METADATA_MAX = 16 * 1024 * 1024  # a METADATA/PKG-INFO larger than this is not read


def read_facts(path: Path) -> DistFacts:
    """The :class:`DistFacts` of the wheel or sdist at ``path``."""
    try:
        if path.name.endswith(".whl") or path.name.endswith(".zip"):
            members, metadata = _read_zip(path)
        else:
            members, metadata = _read_tar(path)
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        raise DistError(
            f"{path.name} cannot be read as an archive: {exc}.", "Build it again."
        ) from None
    return DistFacts(path.name, path.stat().st_size, metadata, frozenset(members))


def _read_zip(path: Path) -> tuple[list[str], bytes | None]:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        wanted = "METADATA" if path.name.endswith(".whl") else "PKG-INFO"
        found = [
            info
            for info in zf.infolist()
            if info.filename.count("/") == 1
            and info.filename.endswith("/" + wanted)
            and (wanted == "PKG-INFO" or info.filename.split("/")[0].endswith(".dist-info"))
        ]
        if len(found) != 1 or found[0].file_size > METADATA_MAX:
            return names, None
        return names, zf.read(found[0])


def _read_tar(path: Path) -> tuple[list[str], bytes | None]:
    with tarfile.open(path, "r:*") as tf:
        metadata: bytes | None = None
        names = []
        for member in tf:
            names.append(member.name)
            if (
                metadata is None
                and member.isfile()
                and member.name.count("/") == 1
                and member.name.endswith("/PKG-INFO")
                and member.size <= METADATA_MAX
            ):
                handle = tf.extractfile(member)
                metadata = handle.read() if handle is not None else None
        return names, metadata

"""Sample distributions for the benchmarks: tiny valid wheels, and big ones, written fast.

A wheel here is a zip with the three files twine and pypiserver look at (METADATA, WHEEL,
RECORD); building 60 real projects with setuptools would measure setuptools, not uploads.
"""

from __future__ import annotations

import base64
import hashlib
import os
import zipfile
from pathlib import Path


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def tiny_wheel(folder: Path, name: str, version: str, tag: str = "py3-none-any") -> Path:
    """A small, valid wheel ``{name}-{version}-{tag}.whl`` in ``folder``."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    files = {
        f"{dist}/__init__.py": f'__version__ = "{version}"\n'.encode(),
        f"{info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: benchmark sample\n"
        ).encode(),
        f"{info}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: {tag}\n"
        ).encode(),
    }
    record = [_record_line(k, v) for k, v in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = folder / f"{dist}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for arcname, data in files.items():
            zf.writestr(arcname, data)
    return path


def many_wheels(folder: Path, name: str, version: str, count: int) -> list[Path]:
    """``count`` wheels of one release, told apart by their build tag (all valid names)."""
    folder.mkdir(parents=True, exist_ok=True)
    return [tiny_wheel(folder, name, version, f"{i}-py3-none-any") for i in range(1, count + 1)]


def big_wheel(folder: Path, name: str, version: str, size: int) -> Path:
    """A wheel of about ``size`` bytes of random data (stored, not compressed), written in
    pieces so that making it costs no memory either."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    path = folder / f"{dist}-{version}-py3-none-any.whl"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: big\n".encode()
    wheel = b"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        digest = hashlib.sha256()
        written = 0
        with zf.open(f"{dist}/blob.bin", "w", force_zip64=True) as out:
            while written < size:
                piece = os.urandom(min(1 << 20, size - written))
                digest.update(piece)
                out.write(piece)
                written += len(piece)
        b64 = base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()
        record.append(f"{dist}/blob.bin,sha256={b64},{written}")
        for arcname, data in ((f"{info}/METADATA", meta), (f"{info}/WHEEL", wheel)):
            zf.writestr(arcname, data)
            record.append(_record_line(arcname, data))
        record.append(f"{info}/RECORD,,")
        zf.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return path

"""PyPI's own decisions as data (tests/data/warehouse_cases.json), and nox-release's verdict.

The cases were taken from pypi/warehouse's code and unit tests at the commit the data names
(``forklift/legacy.py``, ``forklift/metadata.py``, ``forklift/decorators.py``, ``utils/wheel.py``,
``utils/zipfiles.py``, ``macaroons/caveats``, ``tests/unit/forklift/``): each says what went in
and whether PyPI accepts or refuses it. :func:`verdict` asks nox-release the same question
through its public entry points (the offline file rules, the stdlib-name rule, the token check,
the plan's 14-day rule), building real archives for the archive cases.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import tarfile
import warnings
import zipfile
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from release import endpoints
from release.config import IndexSettings
from release.distfacts import read_facts
from release.endpoints import Warehouse
from release.errors import DistError
from release.guard import Rules, Verdict, decide
from release.indexstate import IndexFile, IndexState
from release.manifest import DistFile, Manifest
from release.pypi_rules import DistFacts, check_files, errors, stdlib_name_problem
from release.tokens import check_token
from tests.macaroons import make_token

DATA = Path(__file__).parent / "data" / "warehouse_cases.json"
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    kind: str
    input: Mapping[str, Any]
    pypi: str  # "accept" or "refuse"
    source: str


def load() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return data


def cases() -> list[Case]:
    return [Case(**c) for c in load()["cases"]]


# ---------------------------------------------------------------- building the inputs
def metadata_bytes(
    headers: list[list[str]], body: str | None = None, *, metadata_version: str | None = None
) -> bytes:
    lines = [f"Metadata-Version: {metadata_version}"] if metadata_version else []
    lines += [f"{key}: {value}" for key, value in headers]
    text = "\n".join(lines) + "\n"
    if body is not None:
        text += "\n" + body
    return text.encode()


def _stem_version(filename: str) -> tuple[str, str]:
    parts = filename.split("-")
    return parts[0], parts[1] if len(parts) > 1 else ""


def _consistent_members(filename: str) -> frozenset[str]:
    """Members that make the archive itself valid for PyPI, whatever its name says."""
    stem, version = _stem_version(filename)
    if filename.endswith(".whl"):
        info = f"{stem}-{version}.dist-info"
        return frozenset({f"{info}/METADATA", f"{info}/WHEEL", f"{info}/RECORD"})
    top = filename.removesuffix(".tar.gz").removesuffix(".zip")
    return frozenset({f"{top}/PKG-INFO", f"{top}/pyproject.toml"})


def _facts(filename: str, meta: bytes) -> DistFacts:
    return DistFacts(filename, 1000, meta, _consistent_members(filename))


def _wheel_name_for(headers: list[list[str]]) -> str:
    values = dict((k.lower(), v) for k, v in headers)
    name = canonicalize_name(values.get("name", "") or "example").replace("-", "_") or "example"
    try:
        version = str(Version(values.get("version", "")))
    except InvalidVersion:
        version = "1.0"
    return f"{name}-{version}-py3-none-any.whl"


_COMPRESS = {
    "stored": zipfile.ZIP_STORED,
    "deflated": zipfile.ZIP_DEFLATED,
    "lzma": zipfile.ZIP_LZMA,
    "bzip2": zipfile.ZIP_BZIP2,
}


class _Unseekable(io.RawIOBase):
    """A write-only stream zipfile cannot seek in: it then writes data descriptors."""

    def __init__(self, sink: io.BufferedWriter) -> None:
        self.sink = sink

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return self.sink.write(data)


def _member_data(member: Mapping[str, Any], meta: bytes) -> bytes:
    if "zeros" in member:
        return b"\0" * int(member["zeros"])
    data = str(member.get("data", ""))
    return meta if data == "$METADATA" else data.encode()


def _write_zip(path: Path, spec: Mapping[str, Any], meta: bytes) -> None:
    with path.open("wb") as raw:
        target: Any = _Unseekable(raw) if spec.get("stream") else raw
        with zipfile.ZipFile(target, "w") as zf:
            for member in spec["members"]:
                info = zipfile.ZipInfo(member["name"], date_time=(2026, 1, 1, 0, 0, 0))
                info.compress_type = _COMPRESS[member.get("compress", "deflated")]
                if "comment" in member:
                    info.comment = member["comment"].encode()
                with warnings.catch_warnings():  # a duplicate name is a case here
                    warnings.simplefilter("ignore", UserWarning)
                    zf.writestr(info, _member_data(member, meta))
            if "archive_comment" in spec:
                zf.comment = spec["archive_comment"].encode()
        if "trailing" in spec:
            raw.write(spec["trailing"].encode())


def _write_tar(path: Path, spec: Mapping[str, Any], meta: bytes) -> None:
    buf = io.BytesIO()
    fmt = tarfile.GNU_FORMAT if any(m.get("sparse") for m in spec["members"]) else None
    with tarfile.open(fileobj=buf, mode="w:gz", format=fmt or tarfile.PAX_FORMAT) as tf:
        for member in spec["members"]:
            info = tarfile.TarInfo(member["name"])
            if member.get("sparse"):
                info.type = tarfile.GNUTYPE_SPARSE
                info.size = 0
                tf.addfile(info, io.BytesIO(b""))
                continue
            data = _member_data(member, meta)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    payload = buf.getvalue()
    if spec.get("polyglot"):
        zbuf = io.BytesIO()
        with zipfile.ZipFile(zbuf, "w") as zf:
            zf.writestr("PKG-INFO", meta)
        payload += zbuf.getvalue()
    path.write_bytes(payload)


def write_archive(folder: Path, spec: Mapping[str, Any]) -> Path:
    headers = [["Name", spec["name"]], ["Version", spec["version"]], *spec.get("headers", [])]
    meta = metadata_bytes(headers, metadata_version=spec.get("metadata_version", "2.1"))
    path: Path = folder / str(spec["filename"])
    if path.name.endswith((".whl", ".zip")):
        _write_zip(path, spec, meta)
    else:
        _write_tar(path, spec, meta)
    return path


# ---------------------------------------------------------------- nox-release's verdicts
def _refuses(found: list[Any]) -> str:
    return "refuse" if found else "accept"


def _platform(inp: Mapping[str, Any], _tmp: Path) -> str:
    return _refuses(
        errors(check_files([_facts(f"demo-1.0-py3-none-{inp['platform']}.whl", _META)]))
    )


_META = metadata_bytes(
    [["Name", "demo"], ["Version", "1.0"]], "A README.\n", metadata_version="2.1"
)


def _filename(inp: Mapping[str, Any], _tmp: Path) -> str:
    meta = metadata_bytes(
        [
            ["Name", inp["name"]],
            ["Version", inp["version"]],
            ["Description-Content-Type", "text/plain"],
        ],
        "A README.\n",
        metadata_version="2.1",
    )
    return _refuses(errors(check_files([_facts(inp["filename"], meta)])))


def _metadata(inp: Mapping[str, Any], _tmp: Path) -> str:
    headers = inp["headers"]
    meta = metadata_bytes(headers, inp.get("body"))
    return _refuses(errors(check_files([_facts(_wheel_name_for(headers), meta)])))


def _archive(inp: Mapping[str, Any], tmp: Path) -> str:
    path = write_archive(tmp, inp)
    try:
        facts = read_facts(path)
    except DistError:  # an archive nox-release cannot read is refused
        return "refuse"
    return _refuses(errors(check_files([facts])))


def _project_name(inp: Mapping[str, Any], _tmp: Path) -> str:
    return _refuses([stdlib_name_problem(inp["name"])] if stdlib_name_problem(inp["name"]) else [])


def _token_text(inp: Mapping[str, Any]) -> str:
    raw = set(inp.get("raw_caveats", ()))
    caveats = [c.encode() if i in raw else c for i, c in enumerate(inp["caveats"])]
    token = make_token(caveats=caveats)
    body = token.removeprefix("pypi-")
    return {
        "whitespace": f"  {token}\n",
        "padding": token + "=" * (-len(body) % 4),
        "quotes": f'"{token}"',
        "doubled-prefix": "pypi-" + token,
        "no-prefix": body,
        "upper-prefix": "PYPI-" + body,
        "standard": "pypi-" + _standard_alphabet(body),
    }.get(inp.get("text", ""), token)


def _standard_alphabet(body: str) -> str:
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    return base64.b64encode(raw).decode().rstrip("=")


PYPI = IndexSettings("prod", endpoints.PROD_UPLOAD_URL, endpoints.PROD_INDEX_URL, "__token__")


def _token(inp: Mapping[str, Any], _tmp: Path) -> str:
    found = check_token(
        _token_text(inp), username="__token__", index=PYPI, project=inp["project"], now=NOW
    )
    return _refuses([f for f in found if f.level == "error"])


def _release_age(inp: Mapping[str, Any], _tmp: Path) -> str:
    version = Version("1.0")
    uploaded = NOW - timedelta(days=inp.get("first_file_days_ago", inp["created_days_ago"]))
    state = IndexState(
        endpoints.PROD_INDEX_URL,
        canonicalize_name("demo"),
        True,
        (
            IndexFile(
                "demo-1.0.tar.gz",
                canonicalize_name("demo"),
                version,
                "a" * 64,
                False,
                "https://files.example/demo-1.0.tar.gz",
                uploaded,
            ),
        ),
    )
    manifest = Manifest(
        "demo",
        "1.0",
        (
            DistFile("demo-1.0.tar.gz", "a" * 64, 10, "sdist"),
            DistFile("demo-1.0-py3-none-any.whl", "b" * 64, 10, "wheel"),
        ),
    )
    plan = decide(manifest, state, Rules(warehouse=Warehouse.PYPI, is_prod=True, now=NOW))
    return "refuse" if plan.verdict is Verdict.REFUSED else "accept"


ADAPTERS: dict[str, Callable[[Mapping[str, Any], Path], str]] = {
    "platform": _platform,
    "filename": _filename,
    "metadata": _metadata,
    "archive": _archive,
    "project-name": _project_name,
    "token": _token,
    "release-age": _release_age,
}


def verdict(case: Case, tmp: Path) -> str:
    """nox-release's verdict on ``case``: "accept" or "refuse"."""
    return ADAPTERS[case.kind](case.input, tmp)

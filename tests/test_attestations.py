"""Attestations in dist/ go with their file in the upload form's ``attestations`` field.

A capturing fault proxy in front of a real pypiserver reads the form the client sent;
pypiserver ignores the field (it stores the file as usual). Attestations of other bytes, or
of files that are not in the manifest, stop every step that reads dist/ before anything is sent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from requests_toolbelt.multipart.decoder import MultipartDecoder

from release import attestations
from release.commands import build as build_command
from release.commands import upload as upload_command
from release.commands import verify as verify_command
from release.distdir import load_manifest
from release.errors import DistError
from release.localindex import LocalIndex
from release.manifest import DistFile
from tests.attestation_data import FILENAME, SHA256, attestation_for, real_attestation
from tests.conftest import ProjectFactory
from tests.faultproxy import FaultProxy
from tests.pipeline import environ_for, make_ctx, text


def _fields(content_type: str, body: bytes) -> dict[str, list[bytes]]:
    form: dict[str, list[bytes]] = {}
    for part in MultipartDecoder(body, content_type).parts:
        disposition = part.headers[b"Content-Disposition"].decode()
        name = disposition.split('name="', 1)[1].split('"', 1)[0]
        form.setdefault(name, []).append(part.content)
    return form


# ---------------------------------------------------------------- pure parts


def test_real_attestation_names_its_file() -> None:
    data = json.dumps(real_attestation()).encode()
    assert attestations.subject_of(data) == (FILENAME, SHA256)


@pytest.mark.parametrize(
    ("candidate", "kind"),
    [
        ("demo-1.0.tar.gz.publish.attestation", "publish"),
        ("demo-1.0.tar.gz.slsa.attestation", "slsa"),
        ("demo-1.0.tar.gz.attestation", None),  # no kind
        ("demo-1.0.tar.gz.x.y.attestation", None),
        ("demo-1.0.tar.gz.publish.attestation.bak", None),
        ("demo-1.0.1.tar.gz.publish.attestation", None),  # another file's
    ],
)
def test_attestation_names(tmp_path: Path, candidate: str, kind: str | None) -> None:
    (tmp_path / candidate).write_text("{}", encoding="utf-8")
    found = attestations.attestations_for(tmp_path, "demo-1.0.tar.gz")
    assert [p.name for p in found] == ([candidate] if kind else [])


def test_no_attestation_no_field() -> None:
    assert attestations.form_field([]) == []


@pytest.mark.parametrize(
    "data", [b"not json", b"{}", json.dumps({"version": 1}).encode(), b"[]"], ids=str
)
def test_malformed_attestation_is_refused(tmp_path: Path, data: bytes) -> None:
    entry = DistFile("demo-1.0.tar.gz", "0" * 64, 1, "sdist")
    (tmp_path / "demo-1.0.tar.gz.publish.attestation").write_bytes(data)
    with pytest.raises(DistError, match="cannot be sent"):
        attestations.load_for(tmp_path, entry)


# ---------------------------------------------------------------- through pypiserver


@pytest.mark.slow
def test_attestations_go_with_their_files_byte_for_byte(
    make_project: ProjectFactory, index_pair: tuple[LocalIndex, LocalIndex]
) -> None:
    test, prod = index_pair
    root = make_project()
    with FaultProxy(test.base_url, capture=10) as proxy:
        env = environ_for(test, prod) | {"RELEASE_TEST_UPLOAD_URL": proxy.upload_url}
        ctx = make_ctx(root, env)
        manifest = build_command.build(ctx)
        dist = root / "dist"
        sent: dict[str, bytes] = {}
        for f in manifest.files:
            data = attestation_for(f.filename, f.sha256)
            (dist / f"{f.filename}.publish.attestation").write_bytes(data)
            sent[f.filename] = data
        upload_command.upload(ctx, "test")
        captured = list(proxy.captured)
    assert sorted(test.files()) == sorted(f.filename for f in manifest.files)  # stored as usual
    assert len(captured) == len(manifest.files)
    for content_type, body in captured:
        form = _fields(content_type, body)
        (name,) = [n for n in sent if form["content"] and n.encode() in body]
        assert form["attestations"] == [b"[" + sent[name].strip() + b"]"]  # the exact bytes
        assert json.loads(form["attestations"][0]) == [json.loads(sent[name])]
        assert body.index(b'name="attestations"') < body.index(b'name=":action"')
    recorded = load_manifest(root / "dist").attestations
    assert set(recorded) == {f.filename for f in manifest.files}
    for filename, files in recorded.items():
        assert list(files) == [f"{filename}.publish.attestation"]
    assert "sent with its attestation(s)" in text(ctx)


@pytest.mark.slow
def test_attestation_of_other_bytes_stops_upload_and_verify(
    make_project: ProjectFactory, index_pair: tuple[LocalIndex, LocalIndex]
) -> None:
    test, prod = index_pair
    root = make_project()
    ctx = make_ctx(root, environ_for(test, prod))
    manifest = build_command.build(ctx)
    sdist = next(f for f in manifest.files if f.kind == "sdist")
    stale = root / "dist" / f"{sdist.filename}.publish.attestation"
    stale.write_bytes(attestation_for(sdist.filename, "1" * 64))  # an earlier build's
    for run in (lambda: upload_command.upload(ctx, "test"), lambda: verify_command.verify(ctx)):
        with pytest.raises(DistError, match="belongs to other bytes") as info:
            run()
        assert "Remove the attestation files" in info.value.fix
    assert test.uploads == 0
    stale.unlink()
    (root / "dist" / "demo_pkg-0.9.tar.gz.publish.attestation").write_bytes(
        attestation_for("demo_pkg-0.9.tar.gz", "2" * 64)
    )
    with pytest.raises(DistError, match="not in the manifest"):
        upload_command.upload(ctx, "test")
    assert test.uploads == 0
    # A new build moves the earlier attestations aside with the earlier files.
    build_command.build(ctx)
    assert attestations.all_attestations(root / "dist") == []
    assert list((root / "dist" / ".previous").rglob("demo_pkg-0.9.tar.gz.publish.attestation"))

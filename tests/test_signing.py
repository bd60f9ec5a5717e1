"""Attestations made for each upload: which files, which folder, no clash between the two
uploads, when it is on, and nothing of other bytes ever sent.

A recording signer stands in for sigstore here and writes attestations shaped like real ones
(tests/attestation_data.py); everything around the call is the production code. The signing
call itself runs offline against loopback Fulcio and Rekor in tests/test_sigstore_signing.py.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from release import signing, trusted
from release.commands import context
from release.commands import upload as upload_command
from release.config import IndexSettings, load_settings
from release.credentials import Credential
from release.errors import DistError
from release.manifest import DistFile, Manifest
from release.output import Reporter
from tests.attestation_data import SLSA, attestation_for

PYPI = IndexSettings("prod", "https://upload.pypi.org/legacy/", "https://pypi.org/simple/", "")
TESTPYPI = IndexSettings(
    "test", "https://test.pypi.org/legacy/", "https://test.pypi.org/simple/", ""
)
LOCAL = IndexSettings("test", "http://127.0.0.1:9/", "http://127.0.0.1:9/simple/", "")
FILES = [
    DistFile("demo_pkg-1.0.tar.gz", "a" * 64, 10, "sdist"),
    DistFile("demo_pkg-1.0-py3-none-any.whl", "b" * 64, 10, "wheel"),
]
MANIFEST = Manifest("demo-pkg", "1.0", tuple(FILES))
NAMES = tuple(f.filename for f in FILES)
CI = {"CI": "true", "GITHUB_ACTIONS": "true"}


class RecordingSigner:
    """Writes ``<file>.publish.attestation`` for each file (or ``wrong`` bytes) and records the
    folder and the files it was given."""

    def __init__(self, wrong: bool = False, skip: bool = False) -> None:
        self.calls: list[tuple[Path, list[str], list[str]]] = []  # folder, files, folder before
        self.wrong = wrong
        self.skip = skip

    def __call__(self, files: Sequence[DistFile], folder: Path) -> None:
        before = sorted(p.name for p in folder.iterdir())
        self.calls.append((folder, [f.filename for f in files], before))
        for f in files:
            if self.skip:
                continue
            sha = "0" * 64 if self.wrong else f.sha256
            (folder / f"{f.filename}.publish.attestation").write_bytes(
                attestation_for(f.filename, sha)
            )


def _trusted_credential() -> Credential:
    minted = trusted.MintedToken(lambda: ("pypi-minted", time.time() + 900))
    return Credential("__token__", minted.last, "trusted publishing (test)", renewer=minted)


def _ctx(
    tmp_path: Path, signer: RecordingSigner, environ: dict[str, str], on: bool = True
) -> context.Context:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo-pkg"\nversion = "1.0"\n'
        f"[tool.release]\nattestations = {str(on).lower()}\n",
        encoding="utf-8",
    )
    (tmp_path / "dist").mkdir(exist_ok=True)
    return context.Context(
        settings=load_settings(tmp_path, environ),
        environ=environ,
        reporter=Reporter(stream=io.StringIO()),
        signer=signer,
    )


def test_each_upload_signs_in_its_own_folder_outside_dist(tmp_path: Path) -> None:
    signer = RecordingSigner()
    ctx = _ctx(tmp_path, signer, CI)
    credential = _trusted_credential()
    fields = {
        index.name: upload_command._attestation_fields(ctx, index, credential, MANIFEST, NAMES)
        for index in (TESTPYPI, PYPI)
    }
    (test_folder, test_files, test_before), (prod_folder, prod_files, prod_before) = signer.calls
    assert test_folder != prod_folder  # the two uploads never share a folder
    assert test_before == prod_before == []  # each starts empty: no file of the other upload
    for folder in (test_folder, prod_folder):
        assert not folder.exists()  # removed after the upload's fields were read
        assert tmp_path not in folder.parents  # never inside the project (dist/)
    assert test_files == prod_files == [f.filename for f in FILES]
    assert list((tmp_path / "dist").iterdir()) == []
    for name in ("test", "prod"):
        assert set(fields[name]) == {f.filename for f in FILES}
        for f in FILES:
            ((field, value),) = fields[name][f.filename]
            assert field == "attestations"
            assert json.loads(value) == [json.loads(attestation_for(f.filename, f.sha256))]
    assert ctx.reporter.document["attestations_made"] == {
        "test": sorted(f.filename for f in FILES),
        "prod": sorted(f.filename for f in FILES),
    }


@pytest.mark.parametrize(
    ("on", "index", "environ", "trusted_publishing", "why"),
    [
        (False, PYPI, CI, True, "attestations = false"),
        (True, LOCAL, CI, True, "not PyPI or TestPyPI"),
        (True, PYPI, {}, True, "not in CI"),
        (True, PYPI, CI, False, "does not use trusted publishing"),
    ],
)
def test_when_nothing_is_signed(
    tmp_path: Path,
    on: bool,
    index: IndexSettings,
    environ: dict[str, str],
    trusted_publishing: bool,
    why: str,
) -> None:
    signer = RecordingSigner()
    ctx = _ctx(tmp_path, signer, environ, on)
    credential = (
        _trusted_credential() if trusted_publishing else Credential("__token__", "x", "env")
    )
    assert upload_command._attestation_fields(ctx, index, credential, MANIFEST, NAMES) == {}
    assert signer.calls == []
    decision = signing.signing_decision(on, index, trusted_publishing, bool(environ))
    assert decision is not None
    assert why in decision


def test_an_attestation_of_other_bytes_is_never_sent(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, RecordingSigner(wrong=True), CI)
    with pytest.raises(DistError, match="belongs to other bytes"):
        upload_command._attestation_fields(ctx, PYPI, _trusted_credential(), MANIFEST, NAMES)


def test_signing_that_makes_nothing_stops_the_upload(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, RecordingSigner(skip=True), CI)
    with pytest.raises(DistError, match="signing made none"):
        upload_command._attestation_fields(ctx, PYPI, _trusted_credential(), MANIFEST, NAMES)


def test_no_identity_for_sigstore_is_explained(tmp_path: Path) -> None:
    """The real signer asks the CI for a sigstore identity first; without one it says how."""
    from release.errors import CredentialError

    sign = signing.sign_with_sigstore({"CI": "true", "GITLAB_CI": "true"}, trust_config="{}")
    with pytest.raises(CredentialError) as info:
        sign(FILES, tmp_path)
    assert "no identity token for sigstore" in info.value.message
    assert "SIGSTORE_ID_TOKEN: {aud: sigstore}" in info.value.fix
    assert list(tmp_path.iterdir()) == []


def test_a_slsa_attestation_in_dist_goes_with_the_one_made(tmp_path: Path) -> None:
    """PyPI takes one attestation of each type: dist/'s SLSA provenance, plus a publish
    attestation made for the upload; a publish attestation in dist/ is sent instead of signing."""
    signer = RecordingSigner()
    ctx = _ctx(tmp_path, signer, CI)
    sdist, wheel = FILES
    slsa = attestation_for(sdist.filename, sdist.sha256, SLSA)
    (tmp_path / "dist" / f"{sdist.filename}.slsa.attestation").write_bytes(slsa)
    publish = attestation_for(wheel.filename, wheel.sha256)
    (tmp_path / "dist" / f"{wheel.filename}.publish.attestation").write_bytes(publish)
    fields = upload_command._attestation_fields(ctx, PYPI, _trusted_credential(), MANIFEST, NAMES)
    assert [files for _, files, _ in signer.calls] == [[sdist.filename]]  # the wheel has one
    ((_, sdist_field),) = fields[sdist.filename]
    assert [a["envelope"]["statement"] for a in json.loads(sdist_field)] == [
        json.loads(slsa)["envelope"]["statement"],
        json.loads(attestation_for(sdist.filename, sdist.sha256))["envelope"]["statement"],
    ]
    ((_, wheel_field),) = fields[wheel.filename]
    assert wheel_field == "[" + publish.decode().strip() + "]"


def test_two_attestations_of_one_type_are_refused(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, RecordingSigner(), CI)
    sdist = FILES[0]
    for kind in ("publish", "other"):
        (tmp_path / "dist" / f"{sdist.filename}.{kind}.attestation").write_bytes(
            attestation_for(sdist.filename, sdist.sha256)
        )
    with pytest.raises(DistError, match="two attestations of the same type"):
        upload_command._attestation_fields(ctx, PYPI, _trusted_credential(), MANIFEST, NAMES)

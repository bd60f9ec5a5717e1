"""sigstore's real signing API, offline: loopback doubles of Fulcio and Rekor with a generated
trust configuration (tests/sigstore_doubles.py), the identity token from the OIDC double
through the real ``id`` package, and pypi-attestations' ``Attestation.sign``, all driven by the
production signer (``release.signing.sign_with_sigstore``) inside an upload's signing step.

The attestations made are then verified with sigstore's verifier against the generated trust
root (certificate chain, embedded SCT, log entry, signature, identity); a foreign root or
another identity fails.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypi_attestations import Attestation
from sigstore.errors import VerificationError
from sigstore.models import ClientTrustConfig
from sigstore.verify import Verifier
from sigstore.verify.policy import Identity

from release import signing, trusted
from release.commands import context
from release.commands import upload as upload_command
from release.config import IndexSettings, load_settings
from release.credentials import Credential
from release.manifest import DistFile, Manifest
from release.output import Reporter
from tests.oidc_double import GITHUB_ISSUER, OIDCDouble
from tests.sigstore_doubles import SigstoreDoubles

PYPI = IndexSettings("prod", "https://upload.pypi.org/legacy/", "https://pypi.org/simple/", "")
TESTPYPI = IndexSettings(
    "test", "https://test.pypi.org/legacy/", "https://test.pypi.org/simple/", ""
)
FILES = [
    DistFile("demo_pkg-1.0.tar.gz", "a" * 64, 10, "sdist"),
    DistFile("demo_pkg-1.0-py3-none-any.whl", "b" * 64, 10, "wheel"),
]
MANIFEST = Manifest("demo-pkg", "1.0", tuple(FILES))
NAMES = tuple(f.filename for f in FILES)
IDENTITY = "https://github.com/example/demo/.github/workflows/release.yml@refs/heads/main"


@pytest.fixture
def services() -> Iterator[tuple[SigstoreDoubles, OIDCDouble]]:
    with SigstoreDoubles() as sigstore, OIDCDouble() as oidc:
        yield sigstore, oidc


def _verify(attestation: Attestation, config: str, identity: str = IDENTITY) -> str:
    verifier = Verifier(trusted_root=ClientTrustConfig.from_json(config).trusted_root)
    payload_type, _ = verifier.verify_dsse(
        attestation.to_bundle(), Identity(identity=identity, issuer=GITHUB_ISSUER)
    )
    return payload_type


def test_sign_with_sigstore_offline(
    services: tuple[SigstoreDoubles, OIDCDouble], tmp_path: Path
) -> None:
    sigstore, oidc = services
    config = sigstore.trust_config()
    signing.sign_with_sigstore(oidc.github_environ(), trust_config=config)(FILES, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{f.filename}.publish.attestation" for f in FILES
    )
    assert sigstore.identities == [IDENTITY]  # one certificate, reused for both files
    assert len(sigstore.entries) == len(FILES)  # each signature logged
    for f in FILES:
        attestation = Attestation.model_validate_json(
            (tmp_path / f"{f.filename}.publish.attestation").read_bytes()
        )
        assert attestation.statement["subject"] == [
            {"name": f.filename, "digest": {"sha256": f.sha256}}
        ]
        assert _verify(attestation, config) == "application/vnd.in-toto+json"
        with pytest.raises(VerificationError):  # another identity
            _verify(attestation, config, IDENTITY.replace("example/demo", "example/other"))
        with SigstoreDoubles() as foreign, pytest.raises(VerificationError):  # another root
            _verify(attestation, foreign.trust_config())


def test_both_uploads_sign_with_sigstore_without_clash(
    services: tuple[SigstoreDoubles, OIDCDouble], tmp_path: Path
) -> None:
    """upload_test's and upload_prod's signing step, with the production signer: each its own
    certificate and folder; the attestations sent are the ones signed, and verify."""
    sigstore, oidc = services
    environ = oidc.github_environ()
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo-pkg"\nversion = "1.0"\n', encoding="utf-8"
    )
    (tmp_path / "dist").mkdir()
    ctx = context.Context(
        settings=load_settings(tmp_path, environ),
        environ=environ,
        reporter=Reporter(stream=io.StringIO()),
        signer=signing.sign_with_sigstore(environ, trust_config=sigstore.trust_config()),
    )
    minted = trusted.MintedToken(lambda: ("pypi-minted", time.time() + 900))
    credential = Credential("__token__", minted.last, "trusted publishing", renewer=minted)
    sent = {
        i.name: upload_command._attestation_fields(ctx, i, credential, MANIFEST, NAMES)
        for i in (TESTPYPI, PYPI)
    }
    assert len(sigstore.identities) == 2  # a certificate per upload
    assert len(sigstore.entries) == 2 * len(FILES)
    assert list((tmp_path / "dist").iterdir()) == []
    for name in ("test", "prod"):
        for f in FILES:
            ((field, value),) = sent[name][f.filename]
            assert field == "attestations"
            (attestation,) = [Attestation.model_validate(a) for a in json.loads(value)]
            assert _verify(attestation, sigstore.trust_config())

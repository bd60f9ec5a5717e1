"""Make PEP 740 attestations in CI, for one upload, in a folder of its own.

``upload_test`` and ``upload_prod`` each sign the files they are about to send, with the CI's
identity (sigstore: a short-lived Fulcio certificate for the OIDC identity, the signature logged
in Rekor), through pypi-attestations' ``Attestation.sign``. The attestations go to a temporary
folder made for that upload and removed after it: never into ``dist/``, so the second upload
never finds the first one's files (the clash that makes projects turn attestations off with
the popular action), and a ``dist/`` handed from job to job stays as built.

When: the ``attestations`` option is on (default), the upload uses trusted publishing (the
identity that signs is the one PyPI knows as the publisher), and the index is PyPI or TestPyPI
(the only indexes that accept attestations). A file that already has a publish attestation in
``dist/`` is sent with that one instead (PyPI takes one attestation of each type per file).
"""

from __future__ import annotations

__all__ = [
    "SIGSTORE_AUDIENCE",
    "Signer",
    "attestation_folder",
    "sign_with_sigstore",
    "signing_decision",
]

import contextlib
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from .config import IndexSettings
from .errors import CredentialError
from .manifest import DistFile

SIGSTORE_AUDIENCE = "sigstore"

# (files to sign, folder to write <file>.publish.attestation into) -> None
Signer = Callable[[Sequence[DistFile], Path], None]


def signing_decision(
    enabled: bool, index: IndexSettings, trusted_publishing: bool, in_ci: bool
) -> str | None:
    """Why the upload to ``index`` is not signed, or None when it is. Pure."""
    if not enabled:
        return "attestations = false"
    if index.warehouse is None:
        return "the index is not PyPI or TestPyPI (no other index accepts attestations)"
    if not in_ci:
        return "not in CI (attestations are made with the CI's identity)"
    if not trusted_publishing:
        return (
            "the upload does not use trusted publishing (the signing identity would not be "
            "the publisher the index knows)"
        )
    return None


@contextlib.contextmanager
def attestation_folder(index_name: str) -> Iterator[Path]:
    """A fresh folder for one upload's attestations (outside ``dist/``), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"nox-release-attestations-{index_name}-") as folder:
        yield Path(folder)


def _identity(environ: Mapping[str, str]) -> str:
    from .trusted import identity_token

    try:
        return identity_token(SIGSTORE_AUDIENCE, environ)
    except CredentialError as exc:
        raise CredentialError(
            f"Attestations: no identity token for sigstore: {exc.message}",
            "GitHub: the job needs `id-token: write` (as for trusted publishing). GitLab: add "
            "`SIGSTORE_ID_TOKEN: {aud: sigstore}` under the job's `id_tokens:`. Or set "
            "attestations = false.",
        ) from None


def sign_with_sigstore(environ: Mapping[str, str], trust_config: str | None = None) -> Signer:
    """A :data:`Signer` that signs with sigstore's public instance (or ``trust_config``, a
    ClientTrustConfig JSON, for another one) as this CI job."""

    def sign(files: Sequence[DistFile], folder: Path) -> None:
        from pypi_attestations import Attestation, AttestationError, Distribution
        from sigstore.errors import Error as SigstoreError
        from sigstore.models import ClientTrustConfig
        from sigstore.oidc import IdentityToken
        from sigstore.sign import SigningContext

        token = IdentityToken(_identity(environ))  # first: without one, nothing else matters
        config = (
            ClientTrustConfig.from_json(trust_config)
            if trust_config
            else ClientTrustConfig.production()
        )
        context = SigningContext.from_trust_config(config)
        try:
            with context.signer(token, cache=True) as signer:
                for entry in files:
                    dist = Distribution(name=entry.filename, digest=entry.sha256)
                    attestation = Attestation.sign(signer, dist)
                    path = folder / f"{entry.filename}.publish.attestation"
                    path.write_text(attestation.model_dump_json(), encoding="utf-8")
        except (AttestationError, SigstoreError) as exc:
            raise CredentialError(
                f"Attestations: signing failed: {exc}",
                "Run the job again (sigstore may have been unavailable), or set "
                "attestations = false to upload without them.",
            ) from None

    return sign

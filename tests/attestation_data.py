"""The recorded PyPI provenance in tests/data/, and attestations shaped like it for other bytes.

A made attestation keeps the real one's certificate, signature and transparency entry and
swaps the statement for one naming another file: well-formed (pypi-attestations parses it),
but its signature no longer covers the statement, so it never verifies. That is enough for
what is tested with it: which attestation goes with which file, byte for byte.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
PROVENANCE = DATA / "pypi_attestations-0.0.19.tar.gz.provenance"
PROJECT = "pypi-attestations"
VERSION = "0.0.19"
FILENAME = "pypi_attestations-0.0.19.tar.gz"
SHA256 = "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3"
REPOSITORY = "trailofbits/pypi-attestations"
WORKFLOW = "release.yml"


def provenance() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PROVENANCE.read_bytes())
    return data


def real_attestation() -> dict[str, Any]:
    attestation: dict[str, Any] = provenance()["attestation_bundles"][0]["attestations"][0]
    return attestation


PUBLISH = "https://docs.pypi.org/attestations/publish/v1"
SLSA = "https://slsa.dev/provenance/v1"


def statement_for(filename: str, sha256: str, predicate: str = PUBLISH) -> str:
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": filename, "digest": {"sha256": sha256}}],
        "predicateType": predicate,
        "predicate": None,
    }
    return base64.b64encode(json.dumps(statement).encode()).decode()


def attestation_for(filename: str, sha256: str, predicate: str = PUBLISH) -> bytes:
    """A well-formed PEP 740 attestation naming ``filename`` / ``sha256`` (not verifiable)."""
    attestation = real_attestation()
    attestation["envelope"]["statement"] = statement_for(filename, sha256, predicate)
    return json.dumps(attestation, indent=2).encode() + b"\n"

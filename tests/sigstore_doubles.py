"""Loopback doubles of sigstore's Fulcio (certificate authority) and Rekor (transparency log),
with a generated trust configuration, so that sigstore's real signing API runs offline.

What they do, as the real services do it (only what the signing client and the verifier read):

* Fulcio ``POST /api/v2/signingCert``: checks the bearer identity token names the audience
  ``sigstore``, and issues a 10-minute leaf certificate for the CSR's key, with the identity in
  its SAN, issued by a generated root CA, and one embedded SCT: an RFC 6962 signed certificate
  timestamp over the precertificate, signed by a generated CT log key (sigstore verifies it).
* Rekor ``POST /api/v1/log/entries``: logs the proposed entry as the only leaf of a tree of
  size 1 and answers with a signed entry timestamp (SET) and an inclusion proof whose checkpoint
  is a signed note, both signed by a generated log key.

:meth:`SigstoreDoubles.trust_config` is a ClientTrustConfig (trusted root + signing config)
naming those keys and the doubles' URLs. Nothing here reaches the network.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import struct
import threading
import time
from typing import Any

import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from release.loopback import LoopbackHandler, LoopbackServer

__all__ = ["SigstoreDoubles"]

SCT_OID = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
ISSUER_V1_OID = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
ISSUER_V2_OID = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
_START = "2020-01-01T00:00:00Z"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _spki(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _der_octet_string(data: bytes) -> bytes:
    n = len(data)
    if n < 0x80:
        length = bytes([n])
    elif n < 0x100:
        length = bytes([0x81, n])
    else:
        length = bytes([0x82]) + struct.pack("!H", n)
    return b"\x04" + length + data


def _der_utf8(text: str) -> bytes:
    data = text.encode()
    return b"\x0c" + bytes([len(data)]) + data


def _jwt_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


class SigstoreDoubles(LoopbackServer):
    """Fulcio and Rekor on one loopback port (``/api/v2/signingCert``, ``/api/v1/log/entries``)."""

    def __init__(self) -> None:
        super().__init__(name="sigstore")
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ct_key = ec.generate_private_key(ec.SECP256R1())
        self.rekor_key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "loopback"),
                x509.NameAttribute(NameOID.COMMON_NAME, "fulcio double"),
            ]
        )
        self.ca_cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.ca_key.public_key()), False
            )
            .sign(self.ca_key, hashes.SHA256())
        )
        self.identities: list[str] = []  # SANs of the certificates issued
        self.entries: list[dict[str, Any]] = []  # what Rekor logged
        self._lock = threading.Lock()

    # -- Fulcio ------------------------------------------------------------------------------
    def _leaf(self, public_key: Any, claims: dict[str, Any], sct: bytes | None) -> x509.Certificate:
        identity = "https://github.com/" + str(claims.get("job_workflow_ref") or claims["sub"])
        now = datetime.datetime.fromtimestamp(self._issued_at, datetime.timezone.utc)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.ca_cert.subject)
            .public_key(public_key)
            .serial_number(self._serial)
            .not_valid_before(now - datetime.timedelta(seconds=5))
            .not_valid_after(now + datetime.timedelta(minutes=10))
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()),
                False,
            )
            .add_extension(
                x509.SubjectAlternativeName([x509.UniformResourceIdentifier(identity)]),
                critical=True,
            )
            .add_extension(
                x509.UnrecognizedExtension(ISSUER_V1_OID, str(claims["iss"]).encode()), False
            )
            .add_extension(
                x509.UnrecognizedExtension(ISSUER_V2_OID, _der_utf8(str(claims["iss"]))), False
            )
        )
        placeholder = sct or self._sct_list(b"\x00" * 70)
        builder = builder.add_extension(
            x509.UnrecognizedExtension(SCT_OID, _der_octet_string(placeholder)), False
        )
        return builder.sign(self.ca_key, hashes.SHA256())

    def _sct_list(self, signature: bytes) -> bytes:
        """A SignedCertificateTimestampList (RFC 6962 3.3) with one SCT."""
        sct = (
            b"\x00"  # v1
            + hashlib.sha256(_spki(self.ct_key.public_key())).digest()  # log id
            + struct.pack("!Q", self._sct_time_ms)
            + struct.pack("!H", 0)  # no extensions
            + bytes([4, 3])  # sha256, ecdsa
            + struct.pack("!H", len(signature))
            + signature
        )
        serialized = struct.pack("!H", len(sct)) + sct
        return struct.pack("!H", len(serialized)) + serialized

    def issue(self, csr_pem: bytes, claims: dict[str, Any]) -> list[str]:
        """The certificate chain (PEM: leaf, CA) for a CSR, with its SCT."""
        csr = x509.load_pem_x509_csr(csr_pem)
        with self._lock:
            self._issued_at = time.time()
            self._serial = x509.random_serial_number()
            self._sct_time_ms = int(self._issued_at * 1000)
            draft = self._leaf(csr.public_key(), claims, None)
            tbs = draft.tbs_precertificate_bytes  # the same with any SCT: the list is left out
            issuer_key_id = hashlib.sha256(_spki(self.ca_key.public_key())).digest()
            signed_entry = issuer_key_id + struct.pack("!I", len(tbs))[1:] + tbs
            data = (
                struct.pack("!BBQH", 0, 0, self._sct_time_ms, 1)
                + signed_entry
                + struct.pack("!H", 0)
            )
            signature = self.ct_key.sign(data, ec.ECDSA(hashes.SHA256()))
            leaf = self._leaf(csr.public_key(), claims, self._sct_list(signature))
            self.identities.append(
                leaf.extensions.get_extension_for_class(
                    x509.SubjectAlternativeName
                ).value.get_values_for_type(x509.UniformResourceIdentifier)[0]
            )
        return [c.public_bytes(serialization.Encoding.PEM).decode() for c in (leaf, self.ca_cert)]

    # -- Rekor -------------------------------------------------------------------------------
    @property
    def rekor_log_id(self) -> bytes:
        return hashlib.sha256(_spki(self.rekor_key.public_key())).digest()

    @staticmethod
    def canonical(proposed: dict[str, Any]) -> dict[str, Any]:
        """Rekor's canonical form of a proposed dsse entry: hashes and signatures, not the
        envelope itself (what it stores and what verifiers compare with the bundle)."""
        if proposed.get("kind") != "dsse":
            return proposed
        content = proposed["spec"]["proposedContent"]
        envelope = json.loads(content["envelope"])
        payload = base64.b64decode(envelope["payload"])
        sha = {"algorithm": "sha256"}
        return {
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "envelopeHash": sha
                | {"value": hashlib.sha256(content["envelope"].encode()).hexdigest()},
                "payloadHash": sha | {"value": hashlib.sha256(payload).hexdigest()},
                "signatures": [
                    {"signature": sig["sig"], "verifier": content["verifiers"][0]}
                    for sig in envelope["signatures"]
                ],
            },
        }

    def log(self, proposed: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(self.canonical(proposed), sort_keys=True).encode()
        with self._lock:
            index = len(self.entries)
            self.entries.append(proposed)
        integrated = int(time.time())
        log_id = self.rekor_log_id.hex()
        canonical = rfc8785.dumps(
            {
                "body": _b64(body),
                "integratedTime": integrated,
                "logID": log_id,
                "logIndex": index,
            }
        )
        set_signature = self.rekor_key.sign(canonical, ec.ECDSA(hashes.SHA256()))
        root = hashlib.sha256(b"\x00" + body).digest()  # the only leaf of a tree of size 1
        origin = "rekor.loopback - 1"
        note = f"{origin}\n1\n{_b64(root)}\n"
        note_signature = self.rekor_key.sign(note.encode(), ec.ECDSA(hashes.SHA256()))
        checkpoint = (
            note + "\n" + f"\u2014 rekor.loopback {_b64(self.rekor_log_id[:4] + note_signature)}\n"
        )
        return {
            hashlib.sha256(body).hexdigest(): {
                "body": _b64(body),
                "integratedTime": integrated,
                "logID": log_id,
                "logIndex": index,
                "verification": {
                    "signedEntryTimestamp": _b64(set_signature),
                    "inclusionProof": {
                        "logIndex": 0,
                        "rootHash": root.hex(),
                        "treeSize": 1,
                        "hashes": [],
                        "checkpoint": checkpoint,
                    },
                },
            }
        }

    # -- trust configuration -----------------------------------------------------------------
    def trust_config(self) -> str:
        def key(public: ec.EllipticCurvePublicKey) -> dict[str, Any]:
            return {
                "rawBytes": _b64(_spki(public)),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": {"start": _START},
            }

        def service(url: str) -> dict[str, Any]:
            return {
                "url": url,
                "majorApiVersion": 1,
                "validFor": {"start": _START},
                "operator": "loopback",
            }

        root = {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [
                {
                    "baseUrl": self.base_url,
                    "hashAlgorithm": "SHA2_256",
                    "publicKey": key(self.rekor_key.public_key()),
                    "logId": {"keyId": _b64(self.rekor_log_id)},
                }
            ],
            "certificateAuthorities": [
                {
                    "subject": {"organization": "loopback", "commonName": "fulcio double"},
                    "uri": self.base_url,
                    "certChain": {
                        "certificates": [
                            {
                                "rawBytes": _b64(
                                    self.ca_cert.public_bytes(serialization.Encoding.DER)
                                )
                            }
                        ]
                    },
                    "validFor": {"start": _START},
                }
            ],
            "ctlogs": [
                {
                    "baseUrl": self.base_url + "/ct",
                    "hashAlgorithm": "SHA2_256",
                    "publicKey": key(self.ct_key.public_key()),
                    "logId": {
                        "keyId": _b64(hashlib.sha256(_spki(self.ct_key.public_key())).digest())
                    },
                }
            ],
            "timestampAuthorities": [],
        }
        signing = {
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": [service(self.base_url)],
            "oidcUrls": [],
            "rekorTlogUrls": [service(self.base_url)],
            "tsaUrls": [],
            "rekorTlogConfig": {"selector": "ANY"},
            "tsaConfig": {"selector": "ANY"},
        }
        return json.dumps(
            {
                "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
                "trustedRoot": root,
                "signingConfig": signing,
            }
        )

    # -- server ------------------------------------------------------------------------------
    def handler_class(self) -> Any:
        doubles = self

        class Handler(LoopbackHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path == "/api/v2/signingCert":
                    auth = self.headers.get("Authorization", "")
                    claims = _jwt_claims(auth.removeprefix("Bearer "))
                    if claims.get("aud") != "sigstore":
                        self.send_body(401, b'{"message": "bad audience"}', "application/json")
                        return
                    csr = base64.b64decode(json.loads(body)["certificateSigningRequest"])
                    chain = doubles.issue(csr, claims)
                    answer = {"signedCertificateEmbeddedSct": {"chain": {"certificates": chain}}}
                    self.send_body(201, json.dumps(answer).encode(), "application/json")
                    return
                if self.path == "/api/v1/log/entries":
                    entry = doubles.log(json.loads(body))
                    self.send_body(201, json.dumps(entry).encode(), "application/json")
                    return
                self.send_body(404, b'{"message": "not found"}', "application/json")

        return Handler

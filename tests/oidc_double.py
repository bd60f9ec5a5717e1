"""A local HTTP double of what trusted publishing talks to, on 127.0.0.1 (port 0, threads).

It speaks the documented protocols so that the REAL ``id`` package and our client are
exercised over real HTTP:

* GitHub Actions' OIDC token endpoint: ``GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=X`` with
  ``Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`` -> ``{"value": "<jwt>"}``
  (``/github/token?api-version=2.0``, as GitHub hands it out);
* Warehouse's ``GET /_/oidc/audience`` -> ``{"audience": ...}`` (403 when disabled) and
  ``POST /_/oidc/mint-token {"token": jwt}`` -> ``{"success": true, "token": "pypi-...",
  "expires": unix}``, or 422 ``{"message": "Token request failed", "errors": [...]}`` with
  Warehouse's own descriptions (warehouse/oidc/views.py) for each failure code.

The JWT is unsigned-in-spirit (a fixed fake signature): the double checks what Warehouse
checks before the signature (it decodes, has ``iss``, ``aud`` matches) and that it is one it
issued. Minted tokens are real pymacaroons-v2-shaped ``pypi-`` tokens (location, caveats
[OIDCPublisher, ProjectID, Expiration]) so that ``release.tokens`` can decode them.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from release.loopback import LoopbackHandler, LoopbackServer
from tests.macaroons import make_token

__all__ = ["MINT_DESCRIPTIONS", "OIDCDouble", "make_macaroon_token"]

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITLAB_ISSUER = "https://gitlab.com"

# What a job of example/demo's release workflow claims (GitHub) / its pipeline (GitLab).
GITHUB_CLAIMS: dict[str, Any] = {
    "iss": GITHUB_ISSUER,
    "sub": "repo:example/demo:environment:pypi",
    "repository": "example/demo",
    "repository_owner": "example",
    "repository_owner_id": "1234",
    "workflow_ref": "example/demo/.github/workflows/release.yml@refs/heads/main",
    "job_workflow_ref": "example/demo/.github/workflows/release.yml@refs/heads/main",
    "environment": "pypi",
    "ref": "refs/heads/main",
}
GITLAB_CLAIMS: dict[str, Any] = {
    "iss": GITLAB_ISSUER,
    "sub": "project_path:example/demo:ref_type:branch:ref:main",
    "project_path": "example/demo",
    "namespace_path": "example",
    "ci_config_ref_uri": "gitlab.com/example/demo//.gitlab-ci.yml@refs/heads/main",
    "environment": "pypi",
    "ref_path": "refs/heads/main",
}


def publisher_matches(publisher: dict[str, str], claims: dict[str, Any]) -> bool:
    """Warehouse's matching, written out apart from release.claims: repository (owner/name,
    case-insensitive), the workflow file of job_workflow_ref / ci_config_ref_uri, and the
    environment when the publisher names one."""
    if claims.get("iss") == GITLAB_ISSUER:
        repository = str(claims.get("project_path", ""))
        uri = str(claims.get("ci_config_ref_uri", ""))
        workflow_ok = uri.startswith(
            f"gitlab.com/{publisher['repository']}//{publisher['workflow']}@"
        )
    else:
        repository = str(claims.get("repository", ""))
        job = str(claims.get("job_workflow_ref", ""))
        workflow_ok = job.startswith(
            f"{publisher['repository']}/.github/workflows/{publisher['workflow']}@"
        )
    environment = publisher.get("environment", "")
    return (
        repository.lower() == publisher["repository"].lower()
        and workflow_ok
        and (not environment or environment.lower() == str(claims.get("environment", "")).lower())
    )


# code -> description exactly as Warehouse words it.
MINT_DESCRIPTIONS: dict[str, str] = {
    "invalid-payload": "malformed JWT",
    "unknown-issuer": "unknown trusted publishing issuer",  # sent with code invalid-payload
    "not-enabled": "GitHub trusted publishing functionality not enabled",
    "invalid-token": "malformed or invalid token",
    "invalid-pending-publisher": "valid token, but project already exists",
    "invalid-publisher": (
        "valid token, but no corresponding publisher (Publisher with matching claims was not found)"
    ),
    "invalid-reuse-token": "invalid token: already used",
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def make_macaroon_token(location: str, caveats: list[Any], identifier: bytes = b"") -> str:
    """A ``pypi-`` token in pymacaroons' v2 binary format, signed with a random key (the double
    and pypiserver compare the whole string; nobody verifies the HMAC here)."""
    return make_token(
        location,
        caveats,
        identifier=identifier or secrets.token_bytes(16),
        key=secrets.token_bytes(32),
    )


class OIDCDouble(LoopbackServer):
    """GitHub's OIDC endpoint and Warehouse's audience + mint-token endpoints.

    Knobs (set them between requests): ``audience``, ``audience_status`` (403 = disabled),
    ``mint_error`` (a key of MINT_DESCRIPTIONS, or None), ``mint_status`` (to send a raw
    non-JSON failure), ``publisher`` (the registered trusted publisher: repository,
    workflow, environment; a token whose claims miss it gets ``invalid-publisher``),
    ``lifetime`` (seconds the minted tokens claim), ``tokens`` (a list of
    exact tokens to hand out in order; when empty a fresh macaroon is made), ``claims`` (extra
    JWT claims, e.g. for reusable workflows), ``token_location``.
    Counters/records: ``mints``, ``audience_requests``, ``jwts`` (issued), ``seen`` (received).
    """

    def __init__(self) -> None:
        super().__init__(name="oidc-double")
        self.request_token = secrets.token_urlsafe(24)  # GitHub's ACTIONS_ID_TOKEN_REQUEST_TOKEN
        # A private warehouse's own audience: PyPI's ("pypi") is refused from any host but
        # pypi.org (release.destinations.check_audience), and this double is on 127.0.0.1.
        self.audience = "nox-release-double"
        self.audience_status = 200
        self.mint_error: str | None = None
        self.mint_status: int | None = None
        self.lifetime = 900
        self.tokens: list[str] = []
        self.issued_tokens: list[str] = []
        self.claims: dict[str, Any] = {}
        # The trusted publisher registered on the double's index (None: any token matches).
        self.publisher: dict[str, str] | None = None
        self.token_location = "127.0.0.1"
        # GitHub's token endpoint: seconds before it answers (a stalled provider), and bytes of
        # padding in the identity token it hands out (a hostile or broken one).
        self.token_delay = 0.0
        self.token_padding = 0
        self.halt = threading.Event()  # set by stop(): a delayed answer gives up
        # Bytes of the last identity-token answer that the client took before it hung up, and
        # when that answer ended (sent whole, or cut off by the client).
        self.token_bytes_sent = 0
        self.token_answer_ended = threading.Event()
        self.mints = 0
        self.audience_requests = 0
        self.jwts: list[str] = []
        self.seen: list[str] = []
        self.used_jtis: set[str] = set()
        self._lock = threading.Lock()

    # -- URLs --------------------------------------------------------------------------------
    @property
    def github_request_url(self) -> str:
        return self.base_url + "/github/token?api-version=2.0"

    def github_environ(self) -> dict[str, str]:
        """The variables a GitHub Actions job with ``id-token: write`` has."""
        return {
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "ACTIONS_ID_TOKEN_REQUEST_URL": self.github_request_url,
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.request_token,
        }

    def gitlab_environ(self, audience: str | None = None) -> dict[str, str]:
        """A GitLab CI job with ``id_tokens: <AUD>_ID_TOKEN: aud: <audience>`` (GitLab puts the
        token itself in the variable; ``id`` reads it from there); default: the double's."""
        audience = self.audience if audience is None else audience
        variable = "".join(c if c.isalnum() else "_" for c in audience.upper()) + "_ID_TOKEN"
        return {
            "CI": "true",
            "GITLAB_CI": "true",
            variable: self.make_jwt(audience, provider="gitlab"),
        }

    # -- behaviour ---------------------------------------------------------------------------
    def make_jwt(self, audience: str, provider: str = "github") -> str:
        now = int(time.time())
        claims = dict(GITLAB_CLAIMS if provider == "gitlab" else GITHUB_CLAIMS)
        claims.update({"aud": audience, "jti": secrets.token_hex(8), "iat": now, "exp": now + 300})
        claims.update(self.claims)
        header = {"alg": "RS256", "typ": "JWT", "kid": "double"}
        jwt = ".".join(
            [
                _b64(json.dumps(header).encode()),
                _b64(json.dumps(claims).encode()),
                _b64(b"not-a-real-signature"),
            ]
        )
        with self._lock:
            self.jwts.append(jwt)
        return jwt

    def _mint(self, body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            jwt = json.loads(body)["token"]
            if not isinstance(jwt, str):
                raise TypeError(jwt)
        except (ValueError, KeyError, TypeError) as exc:
            return _refused("invalid-payload", f"1 validation error for TokenPayload: {exc}")
        with self._lock:
            self.seen.append(jwt)
        refusal = self._refusal(jwt)
        if refusal is not None:
            return _refused(*refusal)
        return 200, self._issue()

    def _refusal(self, jwt: str) -> tuple[str, str] | None:
        """Warehouse's checks of an identity token, in its order: (code, description) or None."""
        try:
            claims = json.loads(base64.urlsafe_b64decode(jwt.split(".")[1] + "=="))
            issuer = claims["iss"]
        except (ValueError, KeyError, IndexError):
            return "invalid-payload", MINT_DESCRIPTIONS["invalid-payload"]
        if self.mint_error == "unknown-issuer" or issuer not in (GITHUB_ISSUER, GITLAB_ISSUER):
            return "invalid-payload", MINT_DESCRIPTIONS["unknown-issuer"]
        if self.mint_error:
            return self.mint_error, MINT_DESCRIPTIONS[self.mint_error]
        if self.publisher is not None and not publisher_matches(self.publisher, claims):
            return "invalid-publisher", MINT_DESCRIPTIONS["invalid-publisher"]
        if jwt not in self.jwts or claims.get("aud") != self.audience:
            return "invalid-token", MINT_DESCRIPTIONS["invalid-token"]
        with self._lock:
            if claims.get("jti") in self.used_jtis:
                return "invalid-reuse-token", MINT_DESCRIPTIONS["invalid-reuse-token"]
            self.used_jtis.add(claims.get("jti", ""))
        return None

    def _issue(self) -> dict[str, Any]:
        """A minted token: the next of ``tokens``, or a fresh macaroon."""
        with self._lock:
            self.mints += 1
            now = int(time.time())
            expires = now + self.lifetime
            if self.tokens:
                token = self.tokens.pop(0)
            else:
                token = make_macaroon_token(
                    self.token_location,
                    [[4, "publisher-1"], [2, ["project-1"]], [0, expires, now]],
                )
            self.issued_tokens.append(token)
        return {"success": True, "token": token, "expires": expires}

    # -- server ------------------------------------------------------------------------------
    def stop(self) -> None:
        self.halt.set()
        super().stop()

    def handler_class(self) -> type[_Handler]:
        double = self

        class Handler(_Handler):
            owner = double

        return Handler


def _refused(code: str, description: str) -> tuple[int, dict[str, Any]]:
    """Warehouse's 422 answer to a token request it refuses."""
    return 422, {
        "message": "Token request failed",
        "errors": [{"code": code, "description": description}],
    }


class _Handler(LoopbackHandler):
    owner: OIDCDouble

    def _send(self, status: int, document: Any) -> None:
        self.send_body(status, json.dumps(document).encode(), "application/json")

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/github/token":
            self._github_token(parse_qs(parts.query).get("audience", [""])[0])
        elif parts.path == "/_/oidc/audience":
            self._audience()
        else:
            self._send(404, {"message": "Not Found"})

    def _github_token(self, audience: str) -> None:
        owner = self.owner
        if self.headers.get("Authorization", "") != f"bearer {owner.request_token}":
            self._send(401, {"message": "Bad credentials"})
            return
        if owner.token_delay:
            owner.halt.wait(owner.token_delay)
        jwt = owner.make_jwt(audience) + "x" * owner.token_padding
        body = json.dumps({"value": jwt, "count": 1}).encode()
        owner.token_bytes_sent = 0
        owner.token_answer_ended.clear()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:  # in pieces, counted: how much of a huge answer did the client read?
            for start in range(0, len(body), 64 * 1024):
                self.wfile.write(body[start : start + 64 * 1024])
                owner.token_bytes_sent += len(body[start : start + 64 * 1024])
        except OSError:  # the client hung up
            self.close_connection = True
        finally:
            owner.token_answer_ended.set()

    def _audience(self) -> None:
        double = self.owner
        double.audience_requests += 1
        if double.audience_status == 403:
            self._send(403, {"message": "Trusted publishing functionality not enabled"})
        elif double.audience_status != 200:
            self.send_body(double.audience_status)
        else:
            self._send(200, {"audience": double.audience})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if urlsplit(self.path).path != "/_/oidc/mint-token":
            self._send(404, {"message": "Not Found"})
        elif self.owner.mint_status is not None:
            self.send_body(self.owner.mint_status, b"<html>Service Unavailable</html>", "text/html")
        else:
            self._send(*self.owner._mint(body))

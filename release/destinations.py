"""Where a credential may go: pure decisions, made before the first request that would carry it.

1. **A PyPI or TestPyPI token goes only to that index's upload host.** A token says which index
   issued it (its macaroon location, :func:`release.tokens.decode_token`): a PyPI token is sent
   only to ``upload.pypi.org``, a TestPyPI token only to ``test.pypi.org``. Configured for any
   other upload URL (a private index, a typo, a proxy), it is refused.
2. **A token minted by trusted publishing goes only to the index it was minted for**: PyPI's and
   TestPyPI's by rule 1; for a private warehouse, the host that minted it.
3. **No credential over plain ``http://`` except to loopback** (``127.0.0.0/8``, ``::1``,
   ``localhost``). ``http://`` to PyPI or TestPyPI is always refused; to another host only with
   ``allow-http-credentials = true``, and then every run warns.

Refusals are :class:`~release.errors.CredentialError` (exit 7) with the fix. Redirects are the
HTTP layer's part: it never follows one with a credential (:mod:`release.http`).
"""

from __future__ import annotations

__all__ = [
    "UPLOAD_HOSTS",
    "check_destination",
    "check_transport",
    "is_loopback",
    "mint_binding",
]

import ipaddress
from urllib.parse import urlsplit

from . import endpoints
from .endpoints import Warehouse, host_of, strip_credentials, warehouse_of
from .errors import CredentialError

# The one host each public index takes uploads on (from twine's constants, via endpoints).
UPLOAD_HOSTS: dict[Warehouse, str] = {
    Warehouse.PYPI: host_of(endpoints.PROD_UPLOAD_URL),
    Warehouse.TESTPYPI: host_of(endpoints.TEST_UPLOAD_URL),
}
_NAMES = {Warehouse.PYPI: "PyPI", Warehouse.TESTPYPI: "TestPyPI"}
ALLOW_HTTP_KEY = "allow-http-credentials"


def is_loopback(host: str) -> bool:
    """``localhost``, ``127.0.0.0/8`` or ``::1``. Pure."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_transport(url: str, what: str, *, allow_http: bool) -> str | None:
    """Whether a credential may travel to ``url`` at all (rule 3). Returns a warning to show on
    every run (plain http allowed by the opt-in), None when all is well; raises CredentialError.
    ``what`` names the setting the URL came from, for the fix."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    where = strip_credentials(url)
    if scheme == "https" or (scheme == "http" and is_loopback(host)):
        return None
    if scheme != "http":
        raise CredentialError(
            f"A credential would be sent to {where} ({what}), which is not an https:// URL.",
            f"Set {what} to the index's https:// URL.",
        )
    https = "https://" + where.split("://", 1)[1]
    if warehouse_of(url) is not None or host in UPLOAD_HOSTS.values():
        raise CredentialError(
            f"A credential would be sent to {where} ({what}) over plain http://: anyone on "
            "the way could read it. PyPI and TestPyPI are only ever spoken to over https.",
            f"Set {what} to {https}.",
        )
    if not allow_http:
        raise CredentialError(
            f"A credential would be sent to {where} ({what}) over plain http://: anyone on "
            "the way could read it (only loopback is exempt).",
            f"Use {https} if the index serves it. For a private index on a network you trust, "
            f"opt in with {ALLOW_HTTP_KEY} = true in [tool.release] (or "
            "RELEASE_ALLOW_HTTP_CREDENTIALS=1); every run will warn.",
        )
    return (
        f"The credential for {where} ({what}) goes over plain http:// "
        f"({ALLOW_HTTP_KEY} = true): anyone on the way can read it."
    )


def mint_binding(oidc_base: str) -> str:
    """The one upload host a token minted at ``oidc_base`` may go to (rule 2). Pure."""
    warehouse = warehouse_of(oidc_base)
    if warehouse is not None:
        return UPLOAD_HOSTS[warehouse]
    return host_of(oidc_base)


def check_destination(
    upload_url: str,
    what: str,
    *,
    token_warehouse: Warehouse | None,
    minted_for: str | None = None,
) -> None:
    """Rules 1 and 2 for a credential about to be sent to ``upload_url`` (named by ``what``).

    ``token_warehouse``: the index that issued the token, when it decodes as PyPI's or
    TestPyPI's; ``minted_for``: the upload host a trusted-publishing token is bound to
    (:func:`mint_binding`). Raises CredentialError. Pure.
    """
    host = host_of(upload_url)
    where = strip_credentials(upload_url)
    if token_warehouse is not None and host != UPLOAD_HOSTS[token_warehouse]:
        name, home = _NAMES[token_warehouse], UPLOAD_HOSTS[token_warehouse]
        raise CredentialError(
            f"The credential is a {name} token: it is only ever sent to {home}, but {what} is "
            f"{where}. Nothing was sent.",
            f"Use the credential of the index at {host or where} for it (a {name} token is "
            f"for {name} alone), or set {what} back to https://{home}/legacy/ if {name} is "
            "where this should go.",
        )
    if minted_for is not None and host != minted_for:
        raise CredentialError(
            f"The token minted by trusted publishing is bound to {minted_for}, but {what} is "
            f"{where}. Nothing was sent.",
            "Set the trusted-publishing URL (test-/prod-trusted-publishing-url) to the index "
            f"that takes the upload, or point {what} at {minted_for}.",
        )

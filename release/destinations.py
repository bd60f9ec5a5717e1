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
4. **A URL that carries a credential names its host one way only** (:func:`url_problem`): no
   ``user@``, no ``\\``, no ``%`` or non-ASCII in the host, nothing that makes urllib3 connect
   elsewhere than the host these rules see (``https://127.0.0.1\\@pypi.org`` is 127.0.0.1 to
   urllib3). A trailing dot (``upload.pypi.org.``) names the same host as without it.
5. **PyPI's and TestPyPI's OIDC audiences come only from their own hosts**
   (:func:`check_audience`): any other host announcing ``pypi`` or ``testpypi`` would obtain an
   identity token it could exchange at PyPI for an upload token of this project (a confused
   deputy); it is refused before an identity token is requested.

Refusals are :class:`~release.errors.CredentialError` (exit 7) with the fix. Redirects are the
HTTP layer's part: it never follows one with a credential (:mod:`release.http`).
"""

from __future__ import annotations

__all__ = [
    "UPLOAD_HOSTS",
    "check_audience",
    "check_destination",
    "check_transport",
    "check_url",
    "is_loopback",
    "mint_binding",
]

import ipaddress
from urllib.parse import urlsplit

from . import endpoints
from .endpoints import Warehouse, host_of, strip_credentials, url_problem, warehouse_of
from .errors import CredentialError

# The one host each public index takes uploads on (from twine's constants, via endpoints).
UPLOAD_HOSTS: dict[Warehouse, str] = {
    Warehouse.PYPI: host_of(endpoints.PROD_UPLOAD_URL),
    Warehouse.TESTPYPI: host_of(endpoints.TEST_UPLOAD_URL),
}
_NAMES = {Warehouse.PYPI: "PyPI", Warehouse.TESTPYPI: "TestPyPI"}
ALLOW_HTTP_KEY = "allow-http-credentials"


def is_loopback(host: str) -> bool:
    """``localhost``, ``127.0.0.0/8`` or ``::1``. Pure.

    Only ``localhost`` itself: ``evil.localhost`` is a name any resolver (a hosts file, a DNS
    search domain) may send elsewhere, so it does not count.
    """
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, what: str) -> None:
    """CredentialError (exit 7) when ``url`` has a :func:`release.endpoints.url_problem`
    (rule 4; config refuses such URLs already, exit 2: this holds for any caller). Pure."""
    problem = url_problem(url)
    if problem is not None:
        raise CredentialError(
            f"A credential would be sent to the URL of {what}, but {problem}: the host it "
            "names is not plainly the host that would be connected to. Nothing was sent.",
            f"Set {what} to a plain https://host/path URL (the credential goes through "
            "RELEASE_*_PASSWORD, keyring or trusted publishing, never in the URL).",
        )


def check_transport(url: str, what: str, *, allow_http: bool) -> str | None:
    """Whether a credential may travel to ``url`` at all (rules 3 and 4). Returns a warning to
    show on every run (plain http allowed by the opt-in), None when all is well; raises
    CredentialError. ``what`` names the setting the URL came from, for the fix."""
    check_url(url, what)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = host_of(url)
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


_AUDIENCES: dict[str, Warehouse] = {"PYPI": Warehouse.PYPI, "TESTPYPI": Warehouse.TESTPYPI}


def audience_warehouse(audience: str) -> Warehouse | None:
    """The public index whose identity tokens ``audience`` names in any spelling, or None. Pure.

    The spelling is the audience upper-cased, spaces around it ignored: "PyPI", and "pypi" with
    a dotless i (which upper-cases to I), are PyPI's. That also covers the name under which
    ``id`` reads a GitLab identity token, ``<AUD>_ID_TOKEN`` with AUD upper-cased and every
    character outside A-Z, 0-9 and ``_`` made ``_``: that folding only ever adds ``_``, which
    neither PYPI nor TESTPYPI holds, so it names PyPI's or TestPyPI's variable only for an
    audience whose upper-cased spelling already is PYPI or TESTPYPI (tests/test_destinations
    tries spellings against the folding)."""
    return _AUDIENCES.get(audience.strip().upper())


def check_audience(oidc_base: str, audience: str, what: str) -> None:
    """Rule 5: PyPI's (``pypi``) or TestPyPI's (``testpypi``) audience only from that index's
    own host over https; anything else announcing it is refused before an identity token is
    requested (CredentialError, exit 7). ``what`` names the setting ``oidc_base`` came from.
    Pure."""
    warehouse = audience_warehouse(audience)
    if warehouse is None:
        return
    site = endpoints.site_url(warehouse) or ""
    if urlsplit(oidc_base).scheme.lower() == "https" and host_of(oidc_base) == host_of(site):
        return
    name = _NAMES[warehouse]
    raise CredentialError(
        f"{strip_credentials(oidc_base)} ({what}) announced the OIDC audience {audience!r}, "
        f"which is {name}'s: an identity token for it would let that host mint {name} upload "
        "tokens for this project. No identity token was requested.",
        f"Trusted publishing for {name} goes to {site} only. If this index is {name}, set "
        f"{what} to {site} (or leave it unset); if it is another index, it must announce its "
        "own audience (check that the URL is the index you meant).",
    )

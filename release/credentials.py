"""Where the credential for an index comes from, in the documented order.

For the index named ``test`` (``prod`` likewise), the first source that has something wins:

1. ``RELEASE_TEST_PASSWORD`` (username: ``RELEASE_TEST_USERNAME``, default ``__token__``);
2. ``TEST_PYPI_API_TOKEN`` (``PYPI_API_TOKEN`` for prod), username ``__token__``;
3. ``TWINE_USERNAME`` / ``TWINE_PASSWORD`` (skipped when ``TWINE_REPOSITORY_URL`` names
   another index);
4. keyring: service = the upload URL (as twine does), user = the index's username;
5. ``~/.pypirc`` (``HOME`` of the environment): a section named after the project first, then
   ``[testpypi]`` / ``[pypi]``, then any other section whose ``repository`` is this index's
   upload URL; a section counts only when its ``repository`` is this index's upload URL
   (``[pypi]`` / ``[testpypi]`` without one mean PyPI / TestPyPI, a project section without
   one means the index its token was made for);
6. trusted publishing, in CI (option ``trusted-publishing``: ``auto`` | ``off`` | ``force``;
   ``force`` skips 1-5).

Last, and only when asked to be interactive, stdin is a terminal and ``CI`` is not set: a prompt.

The secret lives only in the :class:`Credential` object and in the environment of a child
process that needs it; never in argv, output, exceptions or files.
"""

from __future__ import annotations

__all__ = ["Attempt", "Credential", "find_unbound", "resolve", "source_names"]

import configparser
import contextlib
import dataclasses
import getpass
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from . import destinations, endpoints, redact, trusted
from .claims import parse_publisher
from .config import OPTIONS, IndexSettings, env_name, trusted_mode
from .errors import CredentialError
from .paths import read_capped

TOKEN_USERNAME = endpoints.TOKEN_USERNAME
_DEFAULTS = {o.key: o.default for o in OPTIONS}


@dataclasses.dataclass(frozen=True)
class Credential:
    """A username and secret, and where they came from (``source`` is safe to print)."""

    username: str
    password: str = dataclasses.field(repr=False)
    source: str
    # Set for trusted publishing: hands out the current token, minting a new one before the
    # old one expires.
    renewer: trusted.MintedToken | None = dataclasses.field(default=None, repr=False, compare=False)
    # Set for trusted publishing: the one upload host the minted token may go to.
    bound_to: str | None = None
    # To show on every run (plain http:// allowed by allow-http-credentials).
    warnings: tuple[str, ...] = dataclasses.field(default=(), compare=False)
    # A dry run's trusted publishing: what would be minted, with no secret (nothing minted).
    planned: bool = False

    def __post_init__(self) -> None:
        # Every credential is known to the redaction boundary from the moment it exists.
        redact.register(self.password, self.username)
        for what, text in (("username", self.username), ("password", self.password)):
            if not text.isascii():
                raise CredentialError(
                    f"The {what} from {self.source} has non-ASCII characters: HTTP Basic "
                    "authentication cannot carry them reliably (servers decode them "
                    "differently, and many not at all).",
                    f"Use an API token, or change the {what} on the index to ASCII characters "
                    "only.",
                )

    def get(self) -> tuple[str, str]:
        """(username, password) to send now; short-lived tokens are renewed here."""
        if self.renewer is not None:
            return self.username, self.renewer.current()
        return self.username, self.password


@dataclasses.dataclass(frozen=True)
class Attempt:
    """One source that was looked at and had nothing usable (never holds a secret)."""

    source: str
    outcome: str
    how: str  # how to provide a credential through this source


@dataclasses.dataclass(frozen=True)
class _Context:
    index: IndexSettings
    project: str
    environ: Mapping[str, str]
    options: Mapping[str, Any] | None
    dry_run: bool = False

    def option(self, key: str) -> Any:
        var = env_name(key)
        if var in self.environ:
            return self.environ[var]
        if self.options is not None and key in self.options:
            return self.options[key]
        return _DEFAULTS.get(key, "")

    @property
    def upper(self) -> str:
        return self.index.name.upper()


_EMPTY = "set but empty (a CI secret that does not exist expands to an empty string)"


def _token_var(index: IndexSettings) -> str:
    return "TEST_PYPI_API_TOKEN" if index.name == "test" else "PYPI_API_TOKEN"


def source_names(index: IndexSettings) -> list[str]:
    """The sources in the order they are tried, as shown to people."""
    return [
        f"RELEASE_{index.name.upper()}_PASSWORD",
        _token_var(index),
        "TWINE_USERNAME/TWINE_PASSWORD",
        "keyring",
        "~/.pypirc",
        "trusted publishing",
    ]


def _from_release_env(ctx: _Context, tried: list[Attempt]) -> Credential | None:
    var = f"RELEASE_{ctx.upper}_PASSWORD"
    how = f"export {var}=<token> (username: RELEASE_{ctx.upper}_USERNAME, default __token__)"
    value = ctx.environ.get(var)
    if value:
        return Credential(ctx.index.username, value, var)
    tried.append(Attempt(var, _EMPTY if value == "" else "not set", how))
    return None


def _from_token_env(ctx: _Context, tried: list[Attempt]) -> Credential | None:
    var = _token_var(ctx.index)
    value = ctx.environ.get(var)
    if value:
        return Credential(TOKEN_USERNAME, value, var)
    tried.append(Attempt(var, _EMPTY if value == "" else "not set", f"export {var}=<token>"))
    return None


def _from_twine_env(ctx: _Context, tried: list[Attempt]) -> Credential | None:
    source = "TWINE_USERNAME/TWINE_PASSWORD"
    how = "export TWINE_USERNAME=__token__ TWINE_PASSWORD=<token>"
    value = ctx.environ.get("TWINE_PASSWORD")
    if not value:
        tried.append(Attempt(source, _EMPTY if value == "" else "TWINE_PASSWORD not set", how))
        return None
    repo = ctx.environ.get("TWINE_REPOSITORY_URL", "")
    if repo and not endpoints.same_url(repo, ctx.index.upload_url):
        tried.append(
            Attempt(
                source,
                f"TWINE_REPOSITORY_URL names another index ({endpoints.strip_credentials(repo)})",
                how + f" and TWINE_REPOSITORY_URL={ctx.index.upload_url} (or unset it)",
            )
        )
        return None
    return Credential(ctx.environ.get("TWINE_USERNAME") or ctx.index.username, value, source)


def _from_keyring(ctx: _Context, tried: list[Attempt]) -> Credential | None:
    service = ctx.index.upload_url
    how = f"keyring set {service} {ctx.index.username}   (it asks for the token)"
    try:
        import keyring
    except ImportError:  # pragma: no cover - keyring is a runtime dependency
        tried.append(Attempt("keyring", "the keyring package is not installed", how))
        return None
    try:
        password = keyring.get_password(service, ctx.index.username)
        if password:
            return Credential(ctx.index.username, password, f"keyring ({service})")
        if ctx.index.username == TOKEN_USERNAME:
            found = keyring.get_credential(service, None)
            if found is not None and found.password:
                return Credential(found.username, found.password, f"keyring ({service})")
    except Exception as exc:  # any backend failure means "no credential here", as in twine
        tried.append(Attempt("keyring", f"unavailable ({type(exc).__name__})", how))
        return None
    tried.append(Attempt("keyring", f"nothing stored for {service}", how))
    return None


def _pypirc_path(environ: Mapping[str, str]) -> Path:
    home = environ.get("HOME") or environ.get("USERPROFILE")
    return (Path(home) if home else Path.home()) / ".pypirc"


def _token_warehouse(secret: str) -> endpoints.Warehouse | None:
    """Which public index a token was made for (its macaroon location), if it says; read
    leniently (around whitespace and quotes, a missing ``pypi-``) so that a token pasted
    badly is still bound to its index."""
    from .tokens import PREFIX, decode_token

    text = secret.strip().strip("\"'`\u201c\u201d\u2018\u2019").strip()
    for candidate in (text, PREFIX + text, text.removeprefix(PREFIX)):
        with contextlib.suppress(Exception):  # not a token, or not decodable: no opinion
            return decode_token(candidate).warehouse
    return None


def _section_matches(
    ctx: _Context, section: str, parser: configparser.RawConfigParser
) -> tuple[bool, str]:
    """Whether ``section`` is for this index, and why not."""
    repository = parser.get(section, "repository", fallback="").strip()
    if repository:
        if endpoints.same_url(repository, ctx.index.upload_url):
            return True, ""
        return False, f"[{section}] is for {endpoints.strip_credentials(repository)}"
    defaults = {"pypi": endpoints.PROD_UPLOAD_URL, "testpypi": endpoints.TEST_UPLOAD_URL}
    if section in defaults:
        if endpoints.same_url(defaults[section], ctx.index.upload_url):
            return True, ""
        return False, f"[{section}] (no repository line) is for {defaults[section]}"
    # A per-project section without a repository: the token says which index it is for.
    warehouse = _token_warehouse(parser.get(section, "password", fallback=""))
    if warehouse is not None and warehouse is ctx.index.warehouse:
        return True, ""
    return False, f"[{section}] has no repository line naming {ctx.index.upload_url}"


def _from_pypirc(ctx: _Context, tried: list[Attempt]) -> Credential | None:
    path = _pypirc_path(ctx.environ)
    how = (  # INI lines a person can paste
        f"add to {path}:\n[{ctx.project}]\nrepository = {ctx.index.upload_url}\n"
        "username = __token__\npassword = <token>"
    )
    if not path.exists():
        tried.append(Attempt(str(path), "no such file", how))
        return None
    # twine.utils.get_config reads only the sections listed in index-servers; per-project
    # sections need not be listed, so the file is read here, the way twine does
    # (RawConfigParser: no interpolation of % in tokens).
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(read_capped(path, 1 << 20).decode("utf-8"), str(path))
    except OSError as exc:  # a FIFO, a link to a device, a huge file: never read on
        tried.append(Attempt(str(path), f"not read ({exc.strerror})", how))
        return None
    except (configparser.Error, UnicodeDecodeError) as exc:
        # The parser's message quotes the offending line, which may hold a token: never show it.
        where = getattr(exc, "lineno", None)
        tried.append(
            Attempt(
                str(path),
                f"does not parse ({type(exc).__name__}{f' at line {where}' if where else ''})",
                "fix the file's syntax (INI: [section] then key = value lines)",
            )
        )
        return None
    name = canonicalize_name(ctx.project)
    sections = [s for s in parser.sections() if canonicalize_name(s) == name]
    defaults = ["testpypi", "pypi"] if ctx.index.name == "test" else ["pypi", "testpypi"]
    sections += [s for s in defaults if parser.has_section(s) and s not in sections]
    # Then any other section whose repository line names this index ([my-pkg-test]).
    sections += [
        s
        for s in parser.sections()
        if s not in sections
        and endpoints.same_url(
            parser.get(s, "repository", fallback="").strip(), ctx.index.upload_url
        )
    ]
    notes: list[str] = []
    for section in sections:
        ok, why = _section_matches(ctx, section, parser)
        if not ok:
            notes.append(why)
            continue
        password = parser.get(section, "password", fallback="")
        if not password:
            notes.append(f"[{section}] has no password")
            continue
        username = parser.get(section, "username", fallback="").strip() or ctx.index.username
        return Credential(username, password, f"{path} [{section}]")
    outcome = "; ".join(notes) if notes else f"no [{ctx.project}] or [{defaults[0]}] section"
    tried.append(Attempt(str(path), outcome, how))
    return None


_SOURCES: tuple[Callable[[_Context, list[Attempt]], Credential | None], ...] = (
    _from_release_env,
    _from_token_env,
    _from_twine_env,
    _from_keyring,
    _from_pypirc,
)


def _trusted(ctx: _Context) -> Credential:
    override = str(ctx.option(f"{ctx.index.name}-trusted-publishing-url") or "")
    timeout = float(ctx.option("timeout") or 60.0)
    index, environ = ctx.index, ctx.environ
    publisher = parse_publisher(ctx.option("trusted-publisher") or [])
    base = trusted.oidc_base_url(index, override)
    # The identity token is a credential too: it goes over https (or to loopback) only, to a
    # URL that names its host one way (no user@, no backslash).
    destinations.check_transport(
        base + trusted.MINT_PATH,
        f"{index.name}-trusted-publishing-url",
        allow_http=_allow_http(ctx),
    )
    source = f"trusted publishing ({trusted.ci_name(environ)} OIDC)"
    if ctx.dry_run:  # say what would happen: no identity token is requested, nothing minted
        audience = trusted.plan_mint(index, environ, override=override, timeout=timeout)
        return Credential(
            TOKEN_USERNAME,
            "",
            f"{source}; dry run: an identity token for audience {audience!r} would be "
            f"exchanged at {endpoints.strip_credentials(base)}, none was requested",
            bound_to=destinations.mint_binding(base),
            planned=True,
        )
    minted = trusted.MintedToken(
        lambda: trusted.mint_token(
            index, environ, override=override, timeout=timeout, publisher=publisher
        )
    )
    return Credential(
        TOKEN_USERNAME,
        minted.last,
        source,
        renewer=minted,
        bound_to=destinations.mint_binding(base),
    )


def _trusted_how(ctx: _Context) -> str:
    return (
        f"register this repository's workflow as a trusted publisher of {ctx.project} on the "
        "index, and give the upload job `permissions: id-token: write`"
    )


def _no_credential(
    ctx: _Context, tried: list[Attempt], failure: CredentialError | None = None
) -> CredentialError:
    """Every source tried and how to set each; a trusted-publishing failure's own fix first."""
    lines = [f"  - {a.source}: {a.outcome}" for a in tried]
    hows = "\n".join(
        dict.fromkeys("  - " + a.how.replace("\n", "\n      ") for a in tried if a.how)
    )
    message = (
        f"No credential for the {ctx.index.name} index ({ctx.index.upload_url}). "
        "Tried, in order:\n" + "\n".join(lines)
    )
    if failure is not None:
        message += f"\n{failure.message}"
        return CredentialError(
            message, f"{failure.fix}\nOr provide a token through any of:\n{hows}"
        )
    return CredentialError(message, "Provide one through any of these:\n" + hows)


def _allow_http(ctx: _Context) -> bool:
    value = ctx.option(destinations.ALLOW_HTTP_KEY)
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def _bound(ctx: _Context, credential: Credential) -> Credential:
    """``credential`` if it may go to the index's upload URL (:mod:`release.destinations`),
    with the warnings to show on every run; CredentialError (exit 7) before anything is sent
    otherwise."""
    what = f"{ctx.index.name}-upload-url"
    warning = destinations.check_transport(ctx.index.upload_url, what, allow_http=_allow_http(ctx))
    destinations.check_destination(
        ctx.index.upload_url,
        what,
        token_warehouse=_token_warehouse(credential.password),
        minted_for=credential.bound_to,
    )
    return dataclasses.replace(credential, warnings=(warning,) if warning else ())


def resolve(
    index: IndexSettings,
    project: str,
    environ: Mapping[str, str],
    *,
    interactive: bool = False,
    options: Mapping[str, Any] | None = None,
    dry_run: bool = False,
) -> Credential:
    """The first credential source that has something for ``index``, checked against where it
    would go (:mod:`release.destinations`: a CredentialError before anything is sent).

    ``options`` are the resolved ``[tool.release]`` values (``Settings.values``); without them
    only the environment's ``RELEASE_*`` variables and the defaults are consulted.
    ``dry_run``: trusted publishing is planned, not done (:attr:`Credential.planned`).
    """
    ctx = _Context(index, project, environ, options, dry_run)
    # Plain http:// is refused before a source is even looked at.
    destinations.check_transport(
        index.upload_url, f"{index.name}-upload-url", allow_http=_allow_http(ctx)
    )
    return _bound(ctx, _find(ctx, interactive=interactive))


def find_unbound(
    index: IndexSettings,
    project: str,
    environ: Mapping[str, str],
    *,
    options: Mapping[str, Any] | None = None,
) -> Credential | None:
    """The credential :func:`resolve` would find, before its destination is checked, or None;
    never trusted publishing (nothing is minted), never a prompt. For doctor only: to decode a
    token offline when it may not go to this index, so both problems are reported at once.
    Nothing found this way is ever sent."""
    ctx = _Context(index, project, environ, options, True)
    tried: list[Attempt] = []
    for source in _SOURCES:
        with contextlib.suppress(CredentialError):
            credential = source(ctx, tried)
            if credential is not None:
                return credential
    return None


def _find(ctx: _Context, *, interactive: bool) -> Credential:
    index, environ, options = ctx.index, ctx.environ, ctx.options
    mode = trusted_mode(environ, options)
    if mode == "force":
        return _trusted(ctx)
    tried: list[Attempt] = []
    for source in _SOURCES:
        credential = source(ctx, tried)
        if credential is not None:
            return credential
    failure: CredentialError | None = None
    if mode == "off":
        tried.append(
            Attempt(
                "trusted publishing",
                "turned off (trusted-publishing = off)",
                "set RELEASE_TRUSTED_PUBLISHING=auto in CI",
            )
        )
    elif trusted.in_ci(environ):
        try:
            return _trusted(ctx)
        except CredentialError as exc:
            tried.append(Attempt("trusted publishing", "failed (below)", _trusted_how(ctx)))
            failure = exc
    else:
        tried.append(Attempt("trusted publishing", "not in CI", _trusted_how(ctx)))
    if interactive and not trusted.in_ci(environ) and sys.stdin is not None and sys.stdin.isatty():
        secret = getpass.getpass(f"API token for the {index.name} index ({index.upload_url}): ")
        if secret:
            return Credential(index.username, secret, "typed at the prompt")
    raise _no_credential(ctx, tried, failure)

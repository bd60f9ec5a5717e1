"""``[tool.release]`` in the host project's pyproject.toml, plus the environment -> Settings.

Every key ``some-key`` of ``[tool.release]`` is also the environment variable
``RELEASE_SOME_KEY``, and the environment wins (twine's rule: every option is also a variable).
The table :data:`OPTIONS` is the one description of them; release/docs/configuration.md's table
follows it.
Secrets are never read from pyproject.toml: see :mod:`release.credentials`.
"""

from __future__ import annotations

__all__ = [
    "OPTIONS",
    "IndexName",
    "IndexSettings",
    "Option",
    "Settings",
    "env_name",
    "load_settings",
    "read_pyproject",
]

import dataclasses
import difflib
import math
import shlex
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from . import endpoints
from .errors import ConfigError
from .paths import inside_root, read_capped
from .redact import looks_like_secret

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

IndexName = Literal["test", "prod"]
INDEX_NAMES: tuple[IndexName, ...] = ("test", "prod")


@dataclasses.dataclass(frozen=True)
class Option:
    key: str
    kind: type  # str, int, float, bool, list
    default: Any
    doc: str
    # Numbers: the documented range, ends included (a huge value would overflow a timer or a
    # backoff, or mean "forever"); shown in the docs' table and in the refusal.
    bounds: tuple[float, float] | None = None


OPTIONS: tuple[Option, ...] = (
    Option(
        "test-upload-url", str, endpoints.TEST_UPLOAD_URL, "Where uploads to the test index go."
    ),
    Option(
        "test-index-url",
        str,
        endpoints.TEST_INDEX_URL,
        "Simple API root of the test index: read before upload, used to install.",
    ),
    Option(
        "prod-upload-url", str, endpoints.PROD_UPLOAD_URL, "Where uploads to the prod index go."
    ),
    Option("prod-index-url", str, endpoints.PROD_INDEX_URL, "Simple API root of the prod index."),
    Option("test-username", str, endpoints.TOKEN_USERNAME, "Username for the test index."),
    Option("prod-username", str, endpoints.TOKEN_USERNAME, "Username for the prod index."),
    Option("dist-dir", str, "dist", "Where `build` writes and the upload sessions read."),
    Option(
        "build-isolation",
        bool,
        True,
        "Build in an isolated environment (python -m build's default).",
    ),
    Option(
        "build-installer",
        str,
        "auto",
        "What installs the isolated build environment: `pip`, `uv`, or `auto` (uv when it is "
        "on PATH: about 2 s faster per build).",
    ),
    Option(
        "smoke-command",
        str,
        "",
        "Command run in the fresh environment after installing from the test index "
        "(split like a shell would; no shell is used).",
    ),
    Option(
        "import-names",
        list,
        [],
        "Modules to import after installing (default: the wheel's top-level modules).",
    ),
    Option(
        "dependency-index-url",
        str,
        "",
        "Where verify_test_install takes the package's dependencies and the sdist's build "
        "requirements, and from nothing else (no pip/uv configuration, no PIP_*/UV_* index "
        "variables): default the prod index; `pip` for your own pip configuration, on "
        "purpose; never the test index.",
    ),
    Option("verify-sdist", bool, True, "Also build and install the sdist in verify_test_install."),
    Option(
        "require-verified",
        bool,
        True,
        "upload_prod sends only files that went through the test index: installed and "
        "smoke-tested by verify_test_install, or (another platform's wheel, the sdist with "
        "verify-sdist = false) listed there with our sha256.",
    ),
    Option("allow-dev-to-prod", bool, False, "Allow .devN versions on the prod index."),
    Option(
        "allow-http-credentials",
        bool,
        False,
        "Send a credential over plain `http://` to a host other than loopback (never to PyPI "
        "or TestPyPI); every run warns. Only for a private index on a network you trust.",
    ),
    Option(
        "index-rules",
        str,
        "",
        "`pypi`: hold every index to PyPI's upload rules, checked before a byte is sent (the "
        "rehearsal sets it); empty: PyPI's rules for PyPI and TestPyPI only. See "
        "release/docs/pypi-rules.md.",
    ),
    Option(
        "file-size-limit",
        int,
        100,
        "PyPI's per-file size limit for this project, in MB: raise it only once PyPI raised "
        "your project's limit.",
        (1, 100_000),
    ),
    Option(
        "wait-timeout",
        float,
        300.0,
        "Seconds to wait for an index to list freshly uploaded files.",
        (0, 86_400),
    ),
    Option(
        "retries",
        int,
        5,
        "Attempts for each index read or upload on transient faults (0 means 1).",
        (0, 100),
    ),
    Option(
        "retry-max-wait",
        float,
        30.0,
        "Longest single wait between attempts, in seconds.",
        (0, 3_600),
    ),
    Option("timeout", float, 60.0, "Seconds before a network read is abandoned.", (0.1, 3_600)),
    Option(
        "upload-concurrency",
        int,
        8,
        "Uploads in flight at once, the wheels largest first (a new release's smallest wheel "
        "goes alone before them).",
        (1, 64),
    ),
    Option(
        "expected-wheels",
        list,
        [],
        "gather: wheel-tag patterns the release must have, with globs and braces "
        "(e.g. `cp3{10,11,12,13,14}-*-manylinux_*_x86_64`); a pattern no wheel matches is "
        "refused. Unset: gather prints the matrix it found (release/docs/compiled.md).",
    ),
    Option(
        "version-files",
        list,
        [],
        "bump_version: more files holding the version, each `PATH` (every occurrence of the "
        "current version) or `PATH:TEXT{version}TEXT`.",
    ),
    Option("tag-format", str, "v{version}", "bump_version: the git tag's name."),
    Option("git", bool, False, "bump_version: commit the changed files and tag (like --git)."),
    Option("sign-tags", bool, False, "bump_version: sign the tag (git tag -s)."),
    Option("push", bool, False, "bump_version: push the commit and the tag (like --push)."),
    Option("git-remote", str, "origin", "bump_version: where --push pushes."),
    Option(
        "commit-message",
        str,
        "Bump version: {old} → {new}",
        "bump_version: the commit message ({old} and {new} are replaced).",
    ),
    Option(
        "trusted-publishing",
        str,
        "auto",
        "auto: in CI, when no other credential is set, mint a token via OIDC; off: never; "
        "force: only trusted publishing (other sources ignored).",
    ),
    Option(
        "trusted-publisher",
        list,
        [],
        "The trusted publisher as registered on the index, e.g. `repository=owner/name`, "
        "`workflow=release.yml` (GitLab: the CI file's path), `environment=pypi`, or as a "
        "table `{repository = ..., workflow = ..., environment = ...}`: doctor and "
        "an `invalid-publisher` refusal compare the CI identity's claims with it.",
    ),
    Option(
        "attestations",
        bool,
        True,
        "In CI with trusted publishing, upload_test and upload_prod sign each file (PEP 740, "
        "sigstore) for PyPI/TestPyPI and send the attestation with it; false: never sign "
        "(attestations already in dist/ are still sent).",
    ),
    Option(
        "provenance-check",
        str,
        "auto",
        "After upload_prod / verify_test_install and in doctor, check each file's provenance "
        "on the index's integrity API: `auto` (PyPI/TestPyPI in CI; missing is a warning), "
        "`require` (any index; missing fails), `off`.",
    ),
    Option(
        "reproducible",
        str,
        "check",
        "release and the rehearsal, beside the build and before any upload: rebuild the "
        "commit in a clean checkout and compare (release/docs/reproduce.md). `check`: a difference "
        "is a warning; `require`: it stops the release (exit 9); `off`: no rebuild.",
    ),
    Option(
        "test-trusted-publishing-url",
        str,
        "",
        "Host serving /_/oidc/ for the test index (default: TestPyPI's, or the upload URL's host).",
    ),
    Option(
        "prod-trusted-publishing-url",
        str,
        "",
        "Host serving /_/oidc/ for the prod index (default: PyPI's, or the upload URL's host).",
    ),
)
_BY_KEY = {o.key: o for o in OPTIONS}
_SECRET_KEYS = {"password", "token", "test-password", "prod-password", "api-token"}


def env_name(key: str) -> str:
    """``test-upload-url`` -> ``RELEASE_TEST_UPLOAD_URL``."""
    return "RELEASE_" + key.upper().replace("-", "_")


@dataclasses.dataclass(frozen=True)
class IndexSettings:
    """One index: where to read, where to upload, which username."""

    name: IndexName
    upload_url: str
    index_url: str
    username: str

    @property
    def warehouse(self) -> endpoints.Warehouse | None:
        return endpoints.warehouse_of(self.upload_url) or endpoints.warehouse_of(self.index_url)


@dataclasses.dataclass(frozen=True)
class Settings:
    root: Path
    values: Mapping[str, Any]  # every key of OPTIONS, resolved
    sources: Mapping[str, str]  # key -> "default" | "pyproject.toml" | "RELEASE_..."
    pyproject: Mapping[str, Any]  # the parsed pyproject.toml, for project.py

    def get(self, key: str) -> Any:
        return self.values[key]

    def index(self, name: IndexName) -> IndexSettings:
        return IndexSettings(
            name=name,
            upload_url=self.values[f"{name}-upload-url"],
            index_url=self.values[f"{name}-index-url"],
            username=self.values[f"{name}-username"],
        )

    @property
    def dist_dir(self) -> Path:
        """``dist-dir`` under the root; :func:`load_settings` has confined what configuration
        says to the project (a value the program sets, the rehearsal's temporary dist/, is
        its own)."""
        return self.root / str(self.values["dist-dir"])

    def pypi_rules_apply(self, index: IndexSettings | None = None) -> bool:
        """PyPI's upload rules apply to ``index`` (to any of the two when None): a Warehouse
        index always, any index with ``index-rules = "pypi"``."""
        choice = str(self.values["index-rules"]).strip().lower()
        if choice not in ("", "pypi"):
            raise ConfigError(
                f"index-rules = {self.values['index-rules']!r} is not one of: pypi, (empty).",
                'Set index-rules = "pypi" (or RELEASE_INDEX_RULES=pypi), or leave it unset.',
            )
        indexes = [index] if index is not None else [self.index(n) for n in INDEX_NAMES]
        return choice == "pypi" or any(i.warehouse is not None for i in indexes)

    def with_values(self, **overrides: Any) -> Settings:
        """A copy with some keys replaced (keys with '_' for '-'); used by rehearse and tests."""
        values = dict(self.values)
        sources = dict(self.sources)
        for name, value in overrides.items():
            key = name.replace("_", "-")
            if key not in _BY_KEY:
                raise KeyError(key)
            values[key] = value
            sources[key] = "override"
        _check_urls(values)
        return dataclasses.replace(self, values=values, sources=sources)


def read_pyproject(root: Path) -> dict[str, Any]:
    path = root / "pyproject.toml"
    try:
        data: dict[str, Any] = tomllib.loads(read_capped(path).decode("utf-8"))
    except FileNotFoundError:
        # A setup.py or setup.cfg project needs no pyproject.toml: every option at its default.
        if (root / "setup.py").is_file() or (root / "setup.cfg").is_file():
            return {}
        raise ConfigError(
            f"No pyproject.toml (nor setup.py or setup.cfg) in {root}.",
            "Run nox from the project's root folder (the one with pyproject.toml or setup.py).",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid TOML: {exc}.", "Fix the syntax error it names and try again."
        ) from None
    except RecursionError:
        raise ConfigError(
            f"{path} nests arrays or tables too deeply to read.",
            "Fix pyproject.toml: no real configuration nests more than a few levels.",
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path} is not UTF-8 text (byte {exc.start} cannot be decoded).",
            "Save it as UTF-8 (TOML files are always UTF-8) and try again.",
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"{path} cannot be read: {exc.strerror or type(exc).__name__}.",
            "Make it a regular, readable file of a few KiB (not a FIFO or a link to a device; "
            "check its permissions) and try again.",
        ) from None
    _check_tables(data, path)
    return data


_KINDS: dict[type, str] = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "a table",
}


def _a(value: object) -> str:
    """``an integer``, ``a string``, ... (how a TOML value's type is named in messages)."""
    return _KINDS.get(type(value), f"a {type(value).__name__}")


def _check_tables(data: Mapping[str, Any], path: Path) -> None:
    """The tables the tool reads are tables (``tool = 1`` or ``project = "x"`` parse fine)."""
    tool = data.get("tool", {})
    where = {"project": data.get("project", {}), "tool": tool}
    if isinstance(tool, dict):
        where |= {f"tool.{k}": tool[k] for k in ("release", "poetry", "setuptools") if k in tool}
    for name, value in where.items():
        if not isinstance(value, dict):
            raise ConfigError(
                f"[{name}] in {path} is {_a(value)}, not a table.",
                f"Write it as a [{name}] table (key = value lines under a [{name}] header).",
            )
    for table in ("project", "tool.poetry"):
        _check_fields(table, where.get(table, {}), path)


# Fields of [project] / [tool.poetry] that nox-release reads, and their TOML types.
_FIELDS: dict[str, tuple[type, str]] = {
    "name": (str, 'name = "your-project"'),
    "version": (str, 'version = "1.0.0"'),
    "dynamic": (list, 'dynamic = ["version"]'),
}


def _check_fields(table: str, fields: Mapping[str, Any], path: Path) -> None:
    for key, (kind, example) in _FIELDS.items():
        value = fields.get(key, kind())
        items = value if isinstance(value, list) and kind is list else [value]
        if not isinstance(value, kind) or not all(isinstance(i, str) for i in items):
            raise ConfigError(
                f"[{table}].{key} in {path} is {_a(value)}, expected "
                f"{'a list of strings' if kind is list else _KINDS[kind]}.",
                f"Write it as {example}.",
            )


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _from_text(kind: type, text: str) -> Any:
    """An environment variable's text as ``kind``; ValueError when it is not one."""
    if kind is bool:
        if text.lower() in _TRUE | _FALSE:
            return text.lower() in _TRUE
        raise ValueError(text)
    if kind is list:
        return [part for part in (p.strip() for p in split_outside_braces(text)) if part]
    return kind(text)


def _is_http_url(value: str) -> bool:
    """An http(s) URL with a host, that parses (brackets, port), without spaces inside it."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return False
    return (
        parts.scheme in {"http", "https"}
        and bool(parts.hostname)
        and not any(ch.isspace() or ord(ch) < 32 for ch in value.strip())
    )


def _shell_words(value: str) -> bool:
    try:
        shlex.split(value)
    except ValueError:
        return False
    return True


TrustedMode = Literal["auto", "off", "force"]
_TRUSTED_MODES: tuple[TrustedMode, ...] = ("auto", "off", "force")


def trusted_mode(
    environ: Mapping[str, str], options: Mapping[str, Any] | None = None
) -> TrustedMode:
    """``trusted-publishing`` option: auto (in CI, after the other sources), off, or force."""
    var = env_name("trusted-publishing")
    raw = environ.get(var)
    origin = var
    if raw is None:
        raw = str((options or {}).get("trusted-publishing", "auto"))
        origin = "[tool.release] trusted-publishing"
    value = raw.strip().lower()
    aliases = {"": "auto", "true": "force", "on": "force", "1": "force", "false": "off", "0": "off"}
    value = aliases.get(value, value)
    if value not in _TRUSTED_MODES:
        raise ConfigError(
            f"{origin} = {raw!r} is not one of auto, off, force.",
            "Use auto (try it in CI when no other credential is set), off, or force "
            "(use only trusted publishing).",
        )
    return value


def _trusted_mode(value: str) -> bool:
    try:
        trusted_mode({}, {"trusted-publishing": value})
    except ConfigError:
        return False
    return True


def _module_names(value: list[str]) -> bool:
    return all(all(part.isidentifier() for part in name.split(".")) for name in value)


# Checks beyond the type, per key: (holds, what a good value is). Numbers must also be finite
# and not negative. Every key is checked when the settings load, before anything is sent.
_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "smoke-command": (_shell_words, "a command split like a shell would (balanced quotes)"),
    "build-installer": (lambda v: v in {"auto", "pip", "uv"}, "one of auto, pip, uv"),
    "trusted-publishing": (_trusted_mode, "one of auto, off, force"),
    "reproducible": (lambda v: v in {"off", "check", "require"}, "one of off, check, require"),
    "tag-format": (
        lambda v: v.count("{version}") == 1,
        'a tag name holding {version} exactly once (e.g. "v{version}")',
    ),
    "dependency-index-url": (
        lambda v: v in {"", "pip"} or _is_http_url(v),
        'an http(s) URL of a simple index, or "pip" (your pip configuration)',
    ),
    "test-trusted-publishing-url": (lambda v: v == "" or _is_http_url(v), "an http(s) URL"),
    "prod-trusted-publishing-url": (lambda v: v == "" or _is_http_url(v), "an http(s) URL"),
    "import-names": (_module_names, "module names (a list of dotted Python identifiers)"),
    "dist-dir": (lambda v: bool(v.strip()), "a folder name, e.g. dist"),
}


def _problem(option: Option, value: Any) -> str:
    """What is wrong with an already typed ``value`` ("" when nothing is)."""
    if option.kind in (int, float):
        if not math.isfinite(value):
            return "is not a finite number"
        if value < 0:
            return "is negative"
        if option.bounds is not None and not option.bounds[0] <= value <= option.bounds[1]:
            return f"is outside its range, {_range(option)}"
    if option.kind is list and not all(isinstance(item, str) for item in value):
        return "holds something other than strings"
    rule = _RULES.get(option.key)
    if rule is not None and not rule[0](value):
        return f"is not {rule[1]}"
    return ""


def _range(option: Option) -> str:
    low, high = option.bounds or (0, math.inf)
    return f"{low:g} to {high:g}"


def _convert(option: Option, raw: Any, origin: str) -> Any:
    """``raw`` (from pyproject.toml or the environment) as the option's type, checked."""
    kind = option.kind
    value: Any = raw
    if option.key in _TABLES_AS_PAIRS and isinstance(raw, dict):
        value = raw = _pairs(raw, origin)
    if isinstance(raw, str) and kind is not str:
        try:
            value = _from_text(kind, raw.strip())
        except ValueError:
            raise ConfigError(
                f"{origin} = {_shown(raw)} is not a valid {kind.__name__}.",
                f"Set it to a {kind.__name__}, e.g. {option.default!r}.",
            ) from None
    elif kind is float and isinstance(raw, int) and not isinstance(raw, bool):
        value = float(raw)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(
            f"{origin} = {_shown(raw)} is {_a(raw)}, expected {_KINDS.get(kind, kind.__name__)}.",
            f"Set it to a {kind.__name__}, e.g. {option.default!r}.",
        )
    problem = _problem(option, value)
    if problem:
        rule = _RULES.get(option.key)
        want = rule[1] if rule else "a number of 0 or more"
        if option.bounds is not None:
            want = f"a number from {_range(option)}"
        raise ConfigError(
            f"{origin} = {_shown(raw)} {problem}.",
            f"Set {option.key} in [tool.release] (or {env_name(option.key)}) to {want}.",
        )
    return list(cast("list[str]", value)) if kind is list else value


# List options a person may also write as a TOML table, the shape written first:
# trusted-publisher = {repository = "o/n", workflow = "release.yml", environment = "pypi"}.
_TABLES_AS_PAIRS = frozenset({"trusted-publisher"})


def _pairs(table: dict[str, Any], origin: str) -> list[str]:
    """A table of strings as ``key=value`` items (the list's own form)."""
    bad = [key for key, value in table.items() if not isinstance(value, str)]
    if bad:
        value = table[bad[0]]
        raise ConfigError(
            f"{origin}.{bad[0]} = {_shown(value)} is {_a(value)}, expected a string.",
            'Write each value as a string, e.g. {repository = "owner/name", '
            'workflow = "release.yml", environment = "pypi"}.',
        )
    return [f"{key}={value}" for key, value in table.items()]


def split_outside_braces(text: str) -> list[str]:
    """Split on the commas outside braces: a list from one environment variable keeps the
    pattern ``cp3{10,11}-*-win_amd64`` whole (also used by brace expansion)."""
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        current += ch
    return [*parts, current]


def _check_url_spelling(key: str, url: str) -> None:
    """A URL names its host one way only (:func:`release.endpoints.url_problem`): what
    urllib3 connects to is the host every check sees."""
    problem = endpoints.url_problem(url) if url else None
    if problem is not None:
        raise ConfigError(
            f"{key} = {_shown(url)} cannot be used: {problem}.",
            f"Set {env_name(key)} (or {key} in [tool.release]) to a plain https://host/path URL.",
        )


def _check_urls(values: Mapping[str, Any]) -> None:
    """Catch the classic mix-up: an upload URL where an index URL belongs, or the reverse."""
    for name in INDEX_NAMES:
        upload, index = values[f"{name}-upload-url"], values[f"{name}-index-url"]
        for key, url in ((f"{name}-upload-url", upload), (f"{name}-index-url", index)):
            what = looks_like_secret(url)
            if what:
                raise ConfigError(
                    f"{key} holds what looks like {what} (hidden here).",
                    "Remove user:password@ or any token from the URL; pass the token through "
                    f"RELEASE_{name.upper()}_PASSWORD or another credential source.",
                )
            if not _is_http_url(url):
                raise ConfigError(
                    f"{key} = {_shown(url)} is not an http(s) URL.",
                    f"Set {env_name(key)} (or {key} in [tool.release]) to a full URL.",
                )
            parts = urlsplit(url)
            if parts.username or parts.password:
                raise ConfigError(
                    f"{key} has credentials in it (hidden here).",
                    "Remove user:password@ from the URL; pass the token through "
                    f"RELEASE_{name.upper()}_PASSWORD or another credential source.",
                )
        for key in (f"{name}-upload-url", f"{name}-index-url", f"{name}-trusted-publishing-url"):
            _check_url_spelling(key, str(values.get(key) or ""))
        upath = urlsplit(upload).path.rstrip("/")
        ipath = urlsplit(index).path.rstrip("/")
        if upath.endswith(("/simple", "/+simple")):
            raise ConfigError(
                f"{name}-upload-url = {upload} is a simple index (read) URL, not an upload URL.",
                f"Set {env_name(name + '-upload-url')} to the upload endpoint "
                f"(for PyPI-like indexes it ends in /legacy/) and {env_name(name + '-index-url')} "
                "to the /simple/ URL.",
            )
        if ipath.endswith("/legacy"):
            raise ConfigError(
                f"{name}-index-url = {index} is an upload URL, not a simple index URL.",
                f"Set {env_name(name + '-index-url')} to the index's /simple/ URL.",
            )
        if (
            urlsplit(upload).hostname
            and endpoints.warehouse_of(upload)
            and upath == "/legacy"
            and (not upload.endswith("/"))
        ):
            raise ConfigError(
                f"{name}-upload-url = {upload} lacks the trailing slash; PyPI answers 308 there.",
                f"Use {upload}/",
            )


_NO_SECRETS_FIX = (
    "Remove it from pyproject.toml (and revoke that token or password if it was ever "
    "committed); pass credentials through RELEASE_PROD_PASSWORD / RELEASE_TEST_PASSWORD, "
    "keyring or trusted publishing instead."
)


def _refuse_secrets(table: Mapping[str, Any]) -> None:
    """pyproject.toml is committed: a secret-looking key or value in [tool.release] is refused,
    and the value is never shown."""
    for key, value in table.items():
        key_text = str(key)
        if key_text in _SECRET_KEYS or "password" in key_text or "token" in key_text:
            raise ConfigError(
                f"[tool.release] has a {key_text!r} key: secrets do not belong in pyproject.toml.",
                _NO_SECRETS_FIX,
            )
        items = value if isinstance(value, list) else [value]
        if looks_like_secret(key_text):
            raise ConfigError(
                "[tool.release] has a key that looks like a secret (hidden here).", _NO_SECRETS_FIX
            )
        for item in items:
            what = looks_like_secret(item) if isinstance(item, str) else ""
            if what:
                raise ConfigError(
                    f"[tool.release] {key_text} holds what looks like {what} (hidden here): "
                    "secrets do not belong in pyproject.toml.",
                    _NO_SECRETS_FIX,
                )


def _shown(raw: object) -> str:
    """A configuration value as shown in a message: never one that looks like a secret."""
    if isinstance(raw, str) and looks_like_secret(raw):
        return "<hidden: looks like a secret>"
    text = repr(raw)
    return text if len(text) <= 80 else text[:77] + "..."


def load_settings(root: Path, environ: Mapping[str, str]) -> Settings:
    """Resolve every option: environment over ``[tool.release]`` over the default."""
    pyproject = read_pyproject(root)
    table = pyproject.get("tool", {}).get("release", {})
    _refuse_secrets(table)
    unknown = sorted(set(table) - set(_BY_KEY))
    if unknown:
        raise ConfigError(
            f"Unknown key(s) in [tool.release]: {', '.join(unknown)}.",
            "Check the spelling against release/docs/configuration.md.",
        )
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for option in OPTIONS:
        var = env_name(option.key)
        if var in environ:
            values[option.key] = _convert(option, environ[var], var)
            sources[option.key] = var
        elif option.key in table:
            values[option.key] = _convert(option, table[option.key], f"[tool.release] {option.key}")
            sources[option.key] = "pyproject.toml"
        else:
            values[option.key] = option.default
            sources[option.key] = "default"
    _check_urls(values)
    settings = Settings(root=root, values=values, sources=sources, pyproject=pyproject)
    # Configuration may not point dist-dir outside the project: checked once, before any step.
    dist = inside_root(root, str(values["dist-dir"]), "dist-dir")
    if dist.exists() and not dist.is_dir():
        raise ConfigError(
            f"dist-dir {dist} is a file, not a folder.",
            "Set dist-dir in [tool.release] (or RELEASE_DIST_DIR) to a folder, or move the file.",
        )
    return settings


def options_markdown() -> str:
    """release/docs/configuration.md's table, made from :data:`OPTIONS` (a test keeps them
    equal)."""
    rows = [
        "| `[tool.release]` key | environment variable | default | meaning |",
        "|---|---|---|---|",
    ]
    for o in OPTIONS:
        if o.kind is bool:
            default = "true" if o.default else "false"
        elif o.kind is list:
            default = "(none)" if not o.default else ", ".join(o.default)
        elif o.default == "":
            default = "(none)"
        else:
            default = str(o.default)
        doc = f"{o.doc} Range: {_range(o)}." if o.bounds else o.doc
        rows.append(f"| `{o.key}` | `{env_name(o.key)}` | {default} | {doc} |")
    return "\n".join(rows)


# Variables nox-release reads that are not options: the passwords (never in pyproject.toml).
_OTHER_VARIABLES = frozenset({"RELEASE_TEST_PASSWORD", "RELEASE_PROD_PASSWORD"})


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """A warning for each ``RELEASE_*`` variable nox-release does not read (a misspelt one
    would otherwise be ignored in silence), naming the known one it resembles. Pure."""
    known = sorted({env_name(o.key) for o in OPTIONS} | _OTHER_VARIABLES)
    lines = []
    for name in sorted(n for n in environ if n.upper().startswith("RELEASE_")):
        if name in known:
            continue
        # compared without the RELEASE_ all of them share, which would make any two alike
        near = difflib.get_close_matches(
            name.upper().removeprefix("RELEASE_"),
            [k.removeprefix("RELEASE_") for k in known],
            n=1,
            cutoff=0.75,
        )
        hint = (
            f"did you mean RELEASE_{near[0]}?"
            if near
            else "the variables are listed in release/docs/configuration.md."
        )
        lines.append(f"{name} is not a variable nox-release reads, so it changes nothing: {hint}")
    return lines

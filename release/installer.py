"""Which installer makes fresh environments and installs into them: uv, or pip.

uv is a hashed pin of the release environment (``release/requirements.txt``; its wheels carry
the binary): :func:`find_uv` finds that one with uv's own ``find_uv_bin``, a uv on PATH second,
and answers ``None`` where neither runs (then virtualenv + pip, the fallback).

uv reads no pip configuration. Where the user's pip configuration is wanted on purpose
(``dependency-index-url = "pip"``, the rehearsal), :func:`uv_index_args` asks pip for it
(``pip config list``, pip's own reading of its files and ``PIP_*`` variables) and says the same
in uv's options, or answers ``None`` when the configuration holds something uv cannot say the
same way (then pip installs, as before).
"""

from __future__ import annotations

__all__ = [
    "PIP_CONFIG_IGNORED",
    "find_uv",
    "parse_pip_config",
    "uv_args_from_pip_settings",
    "uv_index_args",
]

import ast
import functools
import shutil
import subprocess
from collections.abc import Mapping


@functools.cache
def find_uv() -> str | None:
    """The uv binary to run, or ``None``: the pinned one (the ``uv`` package of this
    environment) first, then one on PATH; either only if it runs here."""
    candidates: list[str] = []
    try:
        from uv import find_uv_bin

        candidates.append(find_uv_bin())
    except (ImportError, FileNotFoundError):
        pass
    on_path = shutil.which("uv")
    if on_path:
        candidates.append(on_path)
    for candidate in candidates:
        try:
            proc = subprocess.run(
                [candidate, "--version"], capture_output=True, timeout=30, check=False
            )
        except OSError:  # cannot run on this machine (another platform's binary, no exec)
            continue
        if proc.returncode == 0:
            return candidate
    return None


# pip settings that change how pip works or what it prints, not where packages come from.
PIP_CONFIG_IGNORED = frozenset(
    {
        "timeout",
        "default-timeout",
        "retries",
        "disable-pip-version-check",
        "no-cache-dir",
        "cache-dir",
        "progress-bar",
        "quiet",
        "verbose",
        "no-input",
        "no-color",
        "root-user-action",
        "break-system-packages",
        "require-virtualenv",
        "no-python-version-warning",
        "log",
        "exists-action",
        "upgrade-strategy",
        "config-file",  # PIP_CONFIG_FILE: its settings are listed on their own
    }
)
# pip's order of precedence for `pip install`: [global], then [install], then PIP_* variables.
_SECTIONS = ("global", "install", ":env:")


def parse_pip_config(listing: str) -> dict[str, str] | None:
    """``pip config list`` output -> the settings ``pip install`` uses (key -> value), or
    ``None`` when a line does not parse. Pure."""
    found: dict[tuple[int, str], str] = {}
    for line in listing.splitlines():
        if not line.strip():
            continue
        key, sep, raw = line.partition("=")
        section, dot, name = key.rpartition(".")
        if not sep or not dot:
            return None
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            return None
        if section in _SECTIONS and isinstance(value, str):
            found[(_SECTIONS.index(section), name.replace("_", "-").lower())] = value
    settings: dict[str, str] = {}
    for (_rank, name), value in sorted(found.items()):
        settings[name] = value  # a later section wins
    return settings


# pip setting -> uv option, one per item of a space-separated value; the ones that add a
# source of packages count for the index strategy.
_AS_OPTION = {
    "index-url": ("--index-url", False),
    "extra-index-url": ("--extra-index-url", True),
    "find-links": ("--find-links", True),
    "constraint": ("--constraint", False),
    "trusted-host": ("--allow-insecure-host", False),
}


def uv_args_from_pip_settings(
    settings: Mapping[str, str],
) -> tuple[list[str], dict[str, str]] | None:
    """pip's index settings in uv's words: (options, environment variables), or ``None`` when a
    setting has no exact uv equivalent here. pip takes the best version across every index and
    find-links folder it has, so uv is told the same (``--index-strategy unsafe-best-match``);
    with one source there is nothing to choose between. Pure."""
    if set(settings) - PIP_CONFIG_IGNORED - set(_AS_OPTION) - {"no-index", "cert"}:
        return None  # proxy, client-cert, keyring-provider, only-binary, pre, ...: pip keeps them
    args: list[str] = []
    env: dict[str, str] = {}
    sources = 1
    for name, (option, adds_source) in _AS_OPTION.items():
        for item in settings.get(name, "").split():
            args += [option, item]
            sources += adds_source
    if settings.get("no-index", "").strip().lower() in {"1", "true", "yes", "on"}:
        args.append("--no-index")
    if settings.get("cert", "").strip():
        env["SSL_CERT_FILE"] = settings["cert"].strip()
    strategy = "unsafe-best-match" if sources > 1 else "first-index"
    return [*args, "--index-strategy", strategy], env


def uv_index_args(
    python: str, environ: Mapping[str, str], cwd: str | None = None
) -> tuple[list[str], dict[str, str]] | None:
    """The user's pip index configuration (as ``pip install`` would use it, run with ``python``
    and ``environ``) in uv's words, or ``None`` (pip must install: see the module's docstring)."""
    try:
        proc = subprocess.run(
            [python, "-m", "pip", "config", "list"],
            env=dict(environ),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    settings = parse_pip_config(proc.stdout)
    return None if settings is None else uv_args_from_pip_settings(settings)

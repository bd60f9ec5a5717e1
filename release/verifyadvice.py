"""PURE: what a failed verify means, and advice that matches the cause.

verify installs the release in a fresh environment, imports it and runs the smoke command.
Each can fail for a reason that is no packaging fault, and then "fix the package, bump the
version" is wrong advice. From the installer's own words (pip's and uv's), the import errors
and the package's metadata, this module tells apart:

- a dependency or build requirement that the dependency index does not have (name the index
  searched and ``dependency-index-url``), or an index that did not answer (run again);
- an sdist that needs a compiler or a C library this machine lacks (``verify-sdist``);
- a module that imports an optional extra's dependency (black's ``blackd`` needs
  ``black[d]``): optional, a warning, not a failure (``import-names`` chooses);
- a failing ``smoke-command``: the command, its exit status and its last lines;
- a real packaging fault (a dependency missing from the metadata, an import that raises):
  only then "fix the package and release the next version".

Nothing reached the prod index when verify fails (upload_prod sends only a verified
release), so every verdict says the version is still free there.
"""

from __future__ import annotations

__all__ = [
    "ImportFailure",
    "Source",
    "Verdict",
    "extra_only",
    "import_verdict",
    "install_verdict",
    "not_found",
    "smoke_verdict",
    "tail",
    "taken_on_prod",
]

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

TAIL = 15  # lines of a failing command's output shown


@dataclasses.dataclass(frozen=True)
class Verdict:
    message: str
    fix: str
    packaging_fault: bool  # only then: fix the package and release the next version


@dataclasses.dataclass(frozen=True)
class Source:
    """Where verify took dependencies and build requirements from."""

    url: str  # without credentials; "" for the user's own pip configuration

    def __str__(self) -> str:
        return self.url or "your pip configuration (`pip config list` shows its indexes)"

    @property
    def setting(self) -> str:
        if not self.url:  # the rehearsal, or dependency-index-url = "pip"
            return (
                "make your pip configuration reach an index that has it (the rehearsal and "
                'dependency-index-url = "pip" install as your own pip does)'
            )
        return (
            "set dependency-index-url in [tool.release] (or RELEASE_DEPENDENCY_INDEX_URL) to "
            "an index you trust that has it, or to `pip` for your own pip configuration (never "
            "the test index)"
        )


def tail(output: str, lines: int = TAIL) -> str:
    """The last ``lines`` non-blank lines of ``output``, indented for a message."""
    kept = [line.rstrip() for line in output.strip().splitlines() if line.strip()][-lines:]
    return "\n    ".join(kept) if kept else "(no output)"


def _still_free(version: str) -> str:
    return (
        f"Nothing reached the prod index (upload_prod sends only a release verify passed): "
        f"{version} is still free there."
    )


def taken_on_prod(fix: str, version: str) -> str:
    """``fix`` for a verify that failed after ``version`` reached the prod index after all (a
    verify run again after upload_prod): the version is taken there, not free."""
    return fix.replace(
        _still_free(version),
        f"{version} is already on the prod index, so it is taken there: a fix of the package "
        "goes out as the next version.",
    )


def _next_version(version: str) -> str:
    return (
        f"fix it and release the next version (nox -s bump_version -- patch): the test index "
        f"keeps {version}'s files, and an index never takes other bytes under one version"
    )


_AGAIN = "then run verify_test_install again: nothing needs rebuilding or a new version"

# --------------------------------------------------------------------- the installer's words

_NOT_FOUND = (
    # pip: "ERROR: No matching distribution found for foo>=2"
    re.compile(r"No matching distribution found for ([A-Za-z0-9][A-Za-z0-9._-]*)"),
    # uv: "Because foo was not found in the package registry and ..."
    re.compile(r"Because ([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])? was not found in the"),
    # uv: "Because there is no version of foo==9 and ..."
    re.compile(r"there is no version of ([A-Za-z0-9][A-Za-z0-9._-]*?)(?:\[[^\]]*\])?[<>=!~ ]"),
    # uv: "Because only foo<2 is available and demo depends on foo>=2, ..."
    re.compile(r"Because only ([A-Za-z0-9][A-Za-z0-9._-]*?)(?:\[[^\]]*\])?[<>=!~ ].* available"),
)
_BUILD_REQUIREMENTS = (
    "installing build dependencies",  # pip
    "install build dependencies",  # older pip
    "build-system.requires",  # uv
)
_UNREACHABLE = (
    "Connection refused",
    "Failed to establish a new connection",
    "Name or service not known",
    "Temporary failure in name resolution",
    "tcp connect error",
    "timed out",
    "Could not fetch URL",
    "Failed to fetch:",
    "CERTIFICATE_VERIFY_FAILED",
    "certificate verify failed",
)
_TOOLCHAIN = re.compile(
    r"command '[^']*(?:gcc|cc|g\+\+|c\+\+|clang)[^']*' failed"
    r"|unable to execute '[^']*'"
    r"|fatal error: [^:\n]+\.h(?:pp)?: No such file"
    r"|Unknown compiler\(s\)"
    r"|No CMAKE_[A-Z]+_COMPILER could be found"
    r"|Could not find a compiler"
    r"|error: (?:linker|can't find Rust compiler)"
    r"|Dependency \"[^\"]+\" not found"
)


def not_found(output: str) -> tuple[str, ...]:
    """The requirements pip or uv could not find, as they name them (in order, once each)."""
    names: dict[str, None] = {}
    for pattern in _NOT_FOUND:
        for match in pattern.finditer(output):
            names.setdefault(match.group(1).rstrip("."), None)
    return tuple(names)


def _unreachable(output: str) -> bool:
    return any(marker in output for marker in _UNREACHABLE)


def _names(names: Sequence[str]) -> str:
    return ", ".join(names)


def install_verdict(
    target: str, kind: str, output: str, exit_code: int, source: Source, version: str
) -> Verdict:
    """Why installing ``target`` (the ``kind``, wheel or sdist) with its dependencies failed."""
    shown = tail(output)
    missing = not_found(output)
    build = kind == "sdist" and any(marker in output for marker in _BUILD_REQUIREMENTS)
    what = "build requirement" if build else "dependency"
    if missing and not (_unreachable(output) and "(from versions: none)" in output):
        plural = "s" if len(missing) > 1 else ""
        return Verdict(
            f"Installing {target} failed (exit {exit_code}): the {what}{plural} "
            f"{_names(missing)} could not be found on {source}, the only place verify "
            f"installs {what}s from:\n    {shown}",
            f"If {_names(missing)} is on another index: {source.setting}; {_AGAIN}. If its name "
            f"or version is wrong in the package's requirements, that is a packaging fault: "
            f"{_next_version(version)}. {_still_free(version)}",
            packaging_fault=False,
        )
    if _unreachable(output):
        return Verdict(
            f"Installing {target} failed (exit {exit_code}): {source} could not be reached:"
            f"\n    {shown}",
            f"Check the network and the index address (dependency-index-url), {_AGAIN}. "
            f"{_still_free(version)}",
            packaging_fault=False,
        )
    if kind == "sdist" and _TOOLCHAIN.search(output):
        return Verdict(
            f"Building {target} failed (exit {exit_code}): it needs a compiler or a library "
            f"this machine does not have:\n    {shown}",
            "Install what the output names on the machine that runs verify (or in its CI "
            "image), or set verify-sdist = false in [tool.release] to verify the wheels only "
            f"(they are what pip installs); {_AGAIN}. {_still_free(version)}",
            packaging_fault=False,
        )
    return Verdict(
        f"Installing {target} with its dependencies failed (exit {exit_code}):\n    {shown}",
        "The package does not install as built: fix it (metadata, dependencies, entry "
        f"points, the build), then {_next_version(version)}. {_still_free(version)}",
        packaging_fault=True,
    )


# --------------------------------------------------------------------------- the imports


@dataclasses.dataclass(frozen=True)
class ImportFailure:
    """One module that did not import in the fresh environment."""

    name: str  # the module verify imported
    error: str  # the exception's type, e.g. ModuleNotFoundError
    text: str  # str() of the exception
    missing: str = ""  # the module that was not there (ImportError.name, also as the cause)

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> ImportFailure:
        return cls(
            str(data.get("name", "")),
            str(data.get("error", "")),
            str(data.get("text", "")),
            str(data.get("missing") or ""),
        )


_EXTRA = re.compile(r"""extra\s*==\s*['"]([^'"]+)['"]""")


def _requirements(requires: Iterable[str]) -> list[Requirement]:
    parsed = []
    for text in requires:
        try:
            parsed.append(Requirement(text))
        except InvalidRequirement:
            continue
    return parsed


def _module_spellings(distribution: str) -> set[str]:
    """How a distribution's import name is commonly spelt (``PyYAML`` -> ``yaml``,
    ``python-dateutil`` -> ``dateutil``): a guess that only ever makes a module optional."""
    name = canonicalize_name(distribution)
    spellings = {name, name.replace("-", "")}
    for prefix in ("python-", "py-", "py"):
        if name.startswith(prefix) and len(name) > len(prefix):
            spellings.add(name[len(prefix) :])
    if name.endswith("-python"):
        spellings.add(name[: -len("-python")])
    return spellings


def extra_only(requires: Iterable[str], module: str) -> tuple[str, ...]:
    """The extras whose requirements provide ``module`` (a top-level module), when only extras
    do: () when a base dependency provides it, or nothing seems to."""
    top = canonicalize_name(module.split(".", 1)[0])
    extras: dict[str, None] = {}
    for req in _requirements(requires):
        if top not in _module_spellings(req.name):
            continue
        found = _EXTRA.findall(str(req.marker)) if req.marker else []
        if not found:
            return ()  # a base dependency provides it: not optional
        for extra in found:
            extras.setdefault(extra, None)
    return tuple(extras)


def _one_import(
    failure: ImportFailure, project: str, requires: Sequence[str], configured: bool
) -> str | None:
    """The warning when the module is optional (it needs an extra's dependency), else None."""
    if not failure.missing:  # no ImportError of a missing module, even as the cause
        return None
    extras = extra_only(requires, failure.missing)
    if not extras or configured:
        return None
    spelled = " or ".join(f"{project}[{e}]" for e in extras)
    return (
        f"{failure.name} was not imported: it needs {failure.missing.split('.')[0]}, which "
        f"{project} installs only with the extra {spelled} (an optional part, so not a "
        "fault); import-names in [tool.release] chooses the modules verify imports"
    )


def import_verdict(
    failures: Sequence[ImportFailure],
    imported: Sequence[str],
    project: str,
    requires: Sequence[str],
    *,
    configured: bool,
    version: str,
) -> tuple[list[str], Verdict | None]:
    """(warnings, verdict): modules that need an optional extra are warnings; any other
    failure, or nothing imported at all, is the verdict (None when verify may go on)."""
    warnings: list[str] = []
    fatal: list[ImportFailure] = []
    for failure in failures:
        optional = _one_import(failure, project, requires, configured)
        if optional:
            warnings.append(optional)
        else:
            fatal.append(failure)
    if fatal:
        return warnings, _import_fault(fatal, imported, project, requires, configured, version)
    if failures and not imported:
        names = ", ".join(f.name for f in failures)
        return warnings, Verdict(
            f"None of {project}'s modules imports without an optional extra ({names}).",
            "Name a module that imports with the base install in import-names, or set "
            "smoke-command (e.g. installing the extra and running a command); then run "
            f"verify_test_install again. {_still_free(version)}",
            packaging_fault=False,
        )
    return warnings, None


def _import_fault(
    fatal: Sequence[ImportFailure],
    imported: Sequence[str],
    project: str,
    requires: Sequence[str],
    configured: bool,
    version: str,
) -> Verdict:
    first = fatal[0]
    listing = "\n    ".join(f"{f.name}: {f.error}: {f.text}" for f in fatal)
    others = [n for n in imported if n not in {f.name for f in fatal}]
    choose = f"import-names = [{', '.join(repr(n) for n in others)}]" if others else "import-names"
    if first.missing:
        top = first.missing.split(".")[0]
        extras = extra_only(requires, first.missing)
        if extras and configured:
            return Verdict(
                f"Importing {first.name} failed: it needs {top}, which {project} installs "
                f"only with {' or '.join(f'{project}[{e}]' for e in extras)}; "
                f"import-names lists it:\n    {listing}",
                f"Take {first.name} out of import-names (or install the extra in "
                f"smoke-command), {_AGAIN}. {_still_free(version)}",
                packaging_fault=False,
            )
        if canonicalize_name(top) != canonicalize_name(first.name.split(".")[0]):
            return Verdict(
                f"Importing {first.name} failed: it imports {top}, which is not among "
                f"{project}'s dependencies (not even an extra's):\n    {listing}",
                f"If {top} is a dependency {first.name} always needs, that is a packaging "
                f"fault: add it to the dependencies, then {_next_version(version)}. If "
                f"{first.name} is an optional part, leave it out of the imports: {choose} in "
                f"[tool.release], {_AGAIN}. {_still_free(version)}",
                packaging_fault=True,
            )
    return Verdict(
        f"Importing {', '.join(f.name for f in fatal)} failed in the fresh environment:"
        f"\n    {listing}",
        f"The package does not import as installed: {_next_version(version)}. If a module "
        f"cannot import in a bare environment on purpose (it needs a display, a service, a "
        f"plugin host), name the ones verify should import: {choose} in [tool.release]. "
        f"{_still_free(version)}",
        packaging_fault=True,
    )


# ------------------------------------------------------------------------- smoke-command


def smoke_verdict(
    command: str, exit_code: int | None, output: str, label: str, version: str
) -> Verdict:
    """The smoke command failed (``exit_code`` None: it could not be started)."""
    program = command.split()[0] if command.split() else command
    if exit_code is None:
        happened = f"could not be started: {program} is not installed in the fresh environment"
        hint = (
            f" (if {program} is the package's own command, its [project.scripts] entry is "
            "missing from the built metadata: a packaging fault)"
        )
    else:
        happened = f"exited with status {exit_code}"
        hint = ""
    return Verdict(
        f"The smoke command failed ({label}): `{command}` {happened}{hint}. Its last lines:"
        f"\n    {tail(output)}",
        "If the command is wrong, correct smoke-command in [tool.release] (or "
        f"RELEASE_SMOKE_COMMAND), {_AGAIN}. If the package is at fault, "
        f"{_next_version(version)}. {_still_free(version)}",
        packaging_fault=False,
    )

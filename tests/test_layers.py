"""The layer map of ``release/__init__.py`` holds: every import (at module level, inside a
function, or for type checking only) goes to the importer's own layer or below; no import
cycle; only the command line imports a command module; the pure decisions load no network code.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import release

PURE = (
    "guard",
    "indexstate",
    "jsonpage",
    "versions",
    "pypi_rules",
    "pypi_metadata",
    "pypi_archives",
    "diagnose",
    "tokens",
    "claims",
    "project",
    "vcsversion",
    "verifyadvice",
    "backendadvice",
    "endpoints",
    "errors",
    "redact",
    "childenv",
    "paths",
    "destinations",
    "merge",
    "matrix",
    "terminal",
    "reprodiff",
)
# The HTTP stack, and nox-release's own I/O, commands and CLI.
FORBIDDEN = (
    "requests",
    "urllib3",
    "http.client",
    "pypi_simple",
    "twine",
    "release.http",
    "release.index",
    "release.upload",
    "release.verify",
    "release.credentials",
    "release.trusted",
    "release.localindex",
    "release.commands",
    "release.cli",
)


@pytest.mark.parametrize("module", PURE)
def test_a_pure_module_loads_no_network_code(module: str) -> None:
    code = (
        f"import sys, release.{module}\n"
        f"loaded = sorted(m for m in {FORBIDDEN!r} if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr


def test_the_map_names_every_module() -> None:
    from pathlib import Path

    doc = release.__doc__ or ""
    modules = sorted(p.name for p in Path(release.__file__).parent.glob("*.py"))
    missing = [m for m in modules if m != "__init__.py" and m not in doc]
    assert not missing, f"add them to the layer map in release/__init__.py: {missing}"


# The layers, top to bottom (the map in release/__init__.py says what each module does). A new
# module goes into one of them here and into that map.
LAYERS: dict[str, tuple[str, ...]] = {
    "sessions": ("sessions", "templates.noxfile"),
    "cli": ("cli", "__main__"),
    "commands": ("commands",),  # the package and every module in it
    "io": (
        "http", "index", "upload", "verify", "credentials", "trusted", "signing", "provenance",
        "localindex", "loopback", "gitstate", "layout", "distfacts", "metadata", "runner",
        "attestations", "distdir", "atomic", "contained", "versionsources", "adoption", "installer",
        "buildrun", "pybuild", "reproduce",
    ),
    "pure": (
        "guard", "indexstate", "jsonpage", "versions", "pypi_rules", "pypi_metadata",
        "pypi_archives", "diagnose", "tokens", "claims",
        "project", "vcsversion", "childenv", "destinations", "merge", "matrix", "manifest",
        "checklist",
        "verifyadvice", "backendadvice",
        "reprodiff",
    ),
    "foundation": (
        "", "errors", "config", "output", "paths", "endpoints", "redact", "retry", "terminal",
        "results",
    ),
}  # fmt: skip
RANK = {layer: rank for rank, layer in enumerate(reversed(LAYERS))}
# Imports allowed to go up a layer, each with its reason. None today: keep it that way.
ALLOWED_UPWARD: dict[tuple[str, str], str] = {}
PACKAGE = Path(release.__file__).parent


def _module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer_of(module: str) -> str:
    for layer, members in LAYERS.items():
        for member in members:
            if module == member or (member == "commands" and module.startswith("commands.")):
                return layer
    raise AssertionError(
        f"release.{module} is in no layer: add it to LAYERS in tests/test_layers.py and to the "
        "map in release/__init__.py"
    )


def _imports(path: Path, package: Path) -> set[str]:
    """Every module of the package that ``path`` imports, wherever the import stands (module
    level, inside a function, under ``if TYPE_CHECKING``), relative or absolute."""
    module = _module_name(path, package)
    here = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            elif node.module == "release" or (node.module or "").startswith("release."):
                target = (node.module or "").removeprefix("release").removeprefix(".")
            else:
                continue
            # `from . import x` and `from .commands import build` name modules
            subs = {f"{target}.{a.name}".lstrip(".") for a in node.names}
            found |= {s for s in subs if _is_module(s, package)} or {target}
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "release" or alias.name.startswith("release."):
                    found.add(alias.name.removeprefix("release").removeprefix("."))
    found.discard(module)
    return found


def _is_module(name: str, package: Path) -> bool:
    path = package.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    return {_module_name(p, package): _imports(p, package) for p in sorted(package.rglob("*.py"))}


def _upward(graph: dict[str, set[str]]) -> list[str]:
    return [
        f"release.{src} ({_layer_of(src)}) imports release.{dst} ({_layer_of(dst)})"
        for src, targets in graph.items()
        for dst in sorted(targets)
        if RANK[_layer_of(dst)] > RANK[_layer_of(src)] and (src, dst) not in ALLOWED_UPWARD
    ]


def _commands_imported_outside(graph: dict[str, set[str]]) -> list[str]:
    return [
        f"release.{src} imports release.{dst}"
        for src, targets in graph.items()
        for dst in sorted(targets)
        if dst.startswith("commands") and _layer_of(src) not in ("cli", "commands")
    ]


def _cycles(graph: dict[str, set[str]]) -> list[str]:
    cycles: set[str] = set()

    def visit(node: str, path: list[str], seen: set[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                cycles.add(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in seen:
                seen.add(nxt)
                visit(nxt, [*path, nxt], seen)

    for start in graph:
        visit(start, [start], {start})
    return sorted(cycles)


def test_every_module_has_a_layer() -> None:
    for module in _graph():
        _layer_of(module)


def test_imports_go_down_only() -> None:
    upward = _upward(_graph())
    assert not upward, "imports that go up a layer:\n" + "\n".join(upward)


def test_only_the_command_line_imports_a_command() -> None:
    bad = _commands_imported_outside(_graph())
    assert not bad, bad


def test_no_import_cycle() -> None:
    cycles = _cycles(_graph())
    assert not cycles, "import cycles:\n" + "\n".join(cycles[:10])


@pytest.mark.parametrize(
    ("module", "planted"),
    [
        ("guard.py", "def f():\n    from .upload import Outcome\n"),
        (
            "config.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import http\n",
        ),
        ("tokens.py", "def f():\n    import release.commands.doctor\n"),
        ("output.py", "from release.cli import main\n"),
    ],
    ids=["function-level", "type-checking", "absolute-command", "foundation-to-cli"],
)
def test_an_upward_import_planted_on_purpose_is_found(
    tmp_path: Path, module: str, planted: str
) -> None:
    copy = tmp_path / "release"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert not _upward(_graph(copy))
    with (copy / module).open("a", encoding="utf-8") as f:
        f.write("\n" + planted)
    assert _upward(_graph(copy))


def test_a_cycle_and_a_command_import_planted_on_purpose_are_found(tmp_path: Path) -> None:
    copy = tmp_path / "release"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with (copy / "errors.py").open("a", encoding="utf-8") as f:
        f.write("\ndef f():\n    from .config import Settings\n")  # config imports errors
    with (copy / "upload.py").open("a", encoding="utf-8") as f:
        f.write("\ndef g():\n    from .commands.verify import verify\n")
    assert any("errors -> config -> errors" in c for c in _cycles(_graph(copy)))
    assert _commands_imported_outside(_graph(copy)) == [
        "release.upload imports release.commands.verify"
    ]


def test_tests_import_helpers_not_other_tests() -> None:
    """Shared test code lives in helper modules (tests/pipeline.py, sample_projects.py, ...)."""
    tests = Path(__file__).parent
    bad = [
        f"{path.name} imports {node.module}"
        for path in sorted([*tests.glob("*.py"), *tests.parent.joinpath("bench").glob("*.py")])
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tests.test_")
    ]
    assert not bad, bad


# What a command loads only on one branch (a refusal to explain, PyPI's file rules, git, a
# wheel's import names, provenance, signing): `upload` of a checked dist/ starts without them
# (issue 22: interpreter start-up and imports are most of a small upload's time).
UPLOAD_LEAVES_OUT = (
    "rfc3986",
    "trove_classifiers",
    "stdlib_list",
    "sigstore",
    "pypi_attestations",
    "release.diagnose",
    "release.checklist",
    "release.gitstate",
    "release.verify",
    "release.provenance",
    "release.distfacts",
    "release.pypi_metadata",
)


def _loaded(statement: str, names: tuple[str, ...]) -> list[str]:
    code = f"import sys\n{statement}\nprint(sorted(m for m in {names!r} if m in sys.modules))\n"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return list(ast.literal_eval(proc.stdout.strip()))


def test_the_upload_command_loads_no_branch_only_module() -> None:
    assert _loaded("import release.commands.upload", UPLOAD_LEAVES_OUT) == []
    # the check can fail: the same list after the branch that needs them
    assert "release.diagnose" in _loaded(
        "import release.commands.upload, release.upload, release.diagnose", UPLOAD_LEAVES_OUT
    )


def test_the_first_process_of_python_m_release_loads_only_the_credential_names() -> None:
    """release.__main__ starts itself again without the credentials; before that it needs only
    release.childenv's names, not the redaction machinery."""
    assert _loaded("import release.childenv", ("release.redact", "json", "base64")) == []

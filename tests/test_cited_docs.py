"""Every document a message or a template cites exists where the user is.

A project that adopted nox-release has `release/` (what init copies), not nox-release's `docs/`:
messages and templates cite `release/docs/NAME.md`, and init's copy holds each of them.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from release import adoption

PACKAGE = Path(adoption.__file__).resolve().parent
CITED = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*docs/[\w-]+\.md)")


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring constants (they speak to this repository's readers)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def user_facing_citations() -> dict[str, set[str]]:
    """``{citation: {where}}`` over the strings of release/**/*.py (docstrings and comments
    left out) and the whole text of release/templates/*."""
    cited: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if id(node) in skip:
                    continue
                for match in CITED.findall(node.value):
                    cited.setdefault(match, set()).add(f"{path.name}:{node.lineno}")
    for path in sorted((PACKAGE / "templates").iterdir()):
        if not path.is_file():  # templates/__pycache__, where Python wrote bytecode
            continue
        for match in CITED.findall(path.read_text(encoding="utf-8")):
            cited.setdefault(match, set()).add(f"templates/{path.name}")
    return cited


def test_messages_and_templates_cite_documents_at_all() -> None:
    cited = user_facing_citations()
    assert "release/docs/adopt.md" in cited  # init's "next" advice, the workflow templates
    assert "release/docs/pypi-rules.md" in cited


@pytest.mark.parametrize("citation", sorted(user_facing_citations()))
def test_every_cited_document_is_copied_into_an_adopted_project(citation: str) -> None:
    copied = adoption.source_files()
    where = ", ".join(sorted(user_facing_citations()[citation]))
    assert citation.startswith("release/docs/"), (
        f"{where} cites {citation}: an adopted project has release/, not nox-release's "
        "docs/; cite release/docs/NAME.md"
    )
    assert citation in copied, f"{where} cites {citation}, which init does not copy"
    assert copied[citation].startswith(b"# ")  # the page itself, not a link's target path


def test_the_documents_travel_with_the_package() -> None:
    copied = adoption.source_files()
    docs = {name for name in copied if name.startswith("release/docs/")}
    assert {"release/docs/adopt.md", "release/docs/configuration.md"} <= docs
    assert not [name for name in copied if "__pycache__" in name]

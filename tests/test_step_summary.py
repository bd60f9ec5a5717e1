"""$GITHUB_STEP_SUMMARY: the markdown a session appends in GitHub Actions."""

from __future__ import annotations

from pathlib import Path

import pytest

from release.output import Reporter, markdown_summary
from release.results import Result

SHA = "ab" * 32
DOCUMENT: Result = {
    "build": {
        "name": "demo-pkg",
        "version": "1.2.0",
        "files": [
            {"filename": "demo_pkg-1.2.0.tar.gz", "sha256": SHA, "size": 12345, "kind": "sdist"},
            {
                "filename": "demo_pkg-1.2.0-py3-none-any.whl",
                "sha256": "cd" * 32,
                "size": 2048,
                "kind": "wheel",
            },
        ],
    },
    "uploads": {
        "prod": {
            "index_url": "https://pypi.org/simple/",
            "files": {
                "demo_pkg-1.2.0.tar.gz": "uploaded",
                "demo_pkg-1.2.0-py3-none-any.whl": "skipped",
            },
        },
        "test": {"index_url": "http://127.0.0.1:8080/simple/", "files": {}},
    },
}


def test_markdown_lists_files_hashes_destinations_and_links() -> None:
    text = markdown_summary(
        "Release", [f"built demo-pkg 1.2.0: demo_pkg-1.2.0.tar.gz sha256 {SHA}"], DOCUMENT
    )
    assert text.startswith("### nox-release: Release\n\n")
    assert f"- built demo-pkg 1.2.0: `demo_pkg-1.2.0.tar.gz` sha256 `{SHA}`" in text
    assert f"| `demo_pkg-1.2.0.tar.gz` | `{SHA}` | 12,345 |" in text
    assert "| `demo_pkg-1.2.0-py3-none-any.whl` | `" + "cd" * 32 + "` | 2,048 |" in text
    assert "**prod** index: https://pypi.org/simple/" in text
    assert "(https://pypi.org/project/demo-pkg/1.2.0/)" in text
    assert "`demo_pkg-1.2.0.tar.gz` uploaded" in text
    # a private or local index gets no PyPI link
    test_line = next(line for line in text.splitlines() if line.startswith("**test**"))
    assert "project/" not in test_line
    assert text.endswith("\n\n")


def test_text_already_in_backticks_is_left_alone() -> None:
    text = markdown_summary("S", ["next: `nox -s doctor`, then `demo-1.0.tar.gz`"], {})
    assert "- next: `nox -s doctor`, then `demo-1.0.tar.gz`" in text
    assert "``" not in text


def test_reporter_appends_to_the_step_summary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    out = Reporter(stream=open(tmp_path / "human.txt", "w", encoding="utf-8"))  # noqa: SIM115
    out.document.update(DOCUMENT)
    out.add_summary("prod: uploaded 1, already there 1")
    out.print_summary("Upload")
    out.stream.close()
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n### nox-release: Upload\n")  # appended, not replaced
    assert "(https://pypi.org/project/demo-pkg/1.2.0/)" in text


def test_no_step_summary_file_without_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.chdir(tmp_path)
    out = Reporter(stream=open(tmp_path / "human.txt", "w", encoding="utf-8"))  # noqa: SIM115
    out.add_summary("built")
    out.print_summary()
    out.stream.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["human.txt"]

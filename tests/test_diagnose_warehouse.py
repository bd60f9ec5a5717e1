"""Every refusal PyPI sends to an upload gets a specific diagnosis (issue 19, section 2).

tests/data/warehouse_refusals.json lists each message Warehouse's upload path can send (the
status line, with sample values), taken from pypi/warehouse at the commit it names, with the
diagnosis code it must get. A row of release/diagnose.py that matches none of them says what
it is kept for (``kept``: other indexes, proxies, older Warehouse).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from release import diagnose
from release.config import IndexSettings
from release.credentials import Credential
from release.diagnose import FILENAME_MAX_BYTES, explain_upload, retry_cannot_cure
from release.distdir import hash_file
from release.errors import UploadRejected
from release.manifest import DistFile
from release.output import Reporter
from release.retry import RetryPolicy
from release.upload import _Sender, _Uploader
from tests.hostile import HostileIndex
from tests.sample_projects import write_wheel

DATA = Path(__file__).parent / "data" / "warehouse_refusals.json"
# Rows that only repeat the index's words: a Warehouse refusal must get a row of its own.
GENERIC = {"pypi-rule", "metadata-invalid", "token-invalid", "auth-refused", "unknown"}


def load() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return data


REFUSALS = load()["refusals"]


def test_the_list_names_the_commit_the_docs_cite() -> None:
    commit = load()["warehouse"]["commit"]
    docs = (Path(__file__).parent.parent / "release" / "docs" / "pypi-rules.md").read_text(
        encoding="utf-8"
    )
    assert f"pypi/warehouse@{commit[:7]}" in docs
    assert len({r["message"] for r in REFUSALS}) == len(REFUSALS) > 150


@pytest.mark.parametrize("refusal", REFUSALS, ids=[r["id"] for r in REFUSALS])
def test_each_warehouse_refusal_gets_its_own_diagnosis(refusal: dict[str, Any]) -> None:
    d = explain_upload(
        refusal["status"],
        refusal["message"],
        "",
        project="demo",
        filename="demo-1.0-py3-none-any.whl",
        index_name="prod",
    )
    assert d.code == refusal["code"], refusal["source"]
    assert d.code not in GENERIC
    assert not d.retry or d.code in {"read-only", "uploads-disabled"}
    assert d.fix
    assert d.cause
    assert "{" not in d.title + d.cause + d.fix


@pytest.mark.parametrize("refusal", REFUSALS[:40], ids=[r["id"] for r in REFUSALS[:40]])
def test_the_same_refusal_in_warehouses_html_body_is_diagnosed_alike(
    refusal: dict[str, Any],
) -> None:
    """Warehouse repeats the message in an HTML body; a proxy may drop the reason line."""
    body = f"<html><body><h1>{refusal['status']} Bad</h1>{refusal['message']}<br/></body></html>"
    d = explain_upload(refusal["status"], "", body, project="demo", filename="demo-1.0.tar.gz")
    assert d.code == refusal["code"]


def test_rows_no_warehouse_refusal_reaches_say_what_they_are_kept_for() -> None:
    reached = {r["code"] for r in REFUSALS} | {"redirect", "filename-too-long-500"}
    unreached = [r.code for r in diagnose._RULES if r.code not in reached and not r.kept]
    assert not unreached, f"mark them kept (who sends these strings): {unreached}"
    stale = [r.code for r in diagnose._RULES if r.code in reached and r.kept and r.code in GENERIC]
    assert not stale


def test_every_code_is_on_the_refusals_page() -> None:
    page = (Path(__file__).parent.parent / "release" / "docs" / "refusals.md").read_text(
        encoding="utf-8"
    )
    missing = sorted({r["code"] for r in REFUSALS} - set(_codes_on(page)))
    assert not missing, missing


def test_the_rules_page_says_where_each_refusal_is_caught() -> None:
    page = (Path(__file__).parent.parent / "release" / "docs" / "pypi-rules.md").read_text(
        encoding="utf-8"
    )
    table = page.split("## Every refusal of PyPI's upload, and where nox-release catches it", 1)[1]
    table = table.split("\n## ", 1)[0]
    first_column = " ".join(line.split(" | ")[0] for line in table.splitlines())
    missing = sorted(r["code"] for r in REFUSALS if f"`{r['code']}`" not in first_column)
    assert not missing, missing


def _codes_on(page: str) -> Iterator[str]:
    for line in page.splitlines():
        if line.startswith("| `"):
            yield line.split("`")[1]


# ---------------------------------------------------------------- a 500 retrying cannot cure
def test_a_500_for_a_filename_over_255_bytes_is_not_transient() -> None:
    long_name = "a" * 250 + "-1.0.tar.gz"
    assert len(long_name.encode()) > FILENAME_MAX_BYTES
    d = explain_upload(500, "Internal Server Error", "", filename=long_name)
    assert d.code == "filename-too-long-500"
    assert d.retry is False
    assert "Shorten" in d.fix
    assert retry_cannot_cure(500, "demo-1.0.tar.gz") is None
    assert retry_cannot_cure(502, long_name) is None


@pytest.mark.parametrize(("name_bytes", "posts"), [(300, 1), (40, 3)])
def test_the_upload_does_not_retry_a_500_it_cannot_cure(
    tmp_path: Path, name_bytes: int, posts: int
) -> None:
    """Against a server that answers 500: a name over 255 bytes is sent once and explained; a
    short one is retried (the policy's 3 attempts). The file on disk keeps a short name (this
    file system refuses long ones); the name the upload reports is the manifest's."""
    wheel = write_wheel(tmp_path / "dist", "demo-pkg", "1.0")
    sha, size = hash_file(wheel)
    name = wheel.name if name_bytes < 100 else "x" * (name_bytes - len(wheel.name)) + wheel.name
    entry = DistFile(name, sha, size, "wheel")
    with HostileIndex(mode="server_error") as server:
        index = IndexSettings("test", server.upload_url, server.index_url, "__token__")
        credential = Credential("__token__", "pypi-not-a-real-token-0123456789", "test")
        uploader = _Uploader(
            _Sender(index, credential, 5.0),
            index,
            credential,
            "demo-pkg",
            Reporter(stream=io.StringIO()),
            RetryPolicy(attempts=3, base=0.01, max_wait=0.02),
            5.0,
            0.0,
            {},
        )
        with pytest.raises(UploadRejected) as info:
            uploader.one(wheel, entry)
        sent = [r for r in server.requests if r.method == "POST"]
    assert len(sent) == posts
    if posts == 1:
        assert "not transient" in str(info.value)

"""The ``result`` of the ``--json`` document, key by key, as commands fill it in.

One table for every command (``release`` fills in the keys of build, upload and verify), so a
misspelt or undocumented key is a type error; release/docs/json.md describes each key, and a test
keeps that page and this table the same. Values are JSON: nested objects are left open
(``dict[str, Any]``) where their own shape is documented by the model that makes them
(``Manifest.to_json``, ``Plan.to_json``, ``Check.to_json``).
"""

from __future__ import annotations

__all__ = ["JSONObject", "Result"]

from typing import Any, TypedDict

JSONObject = dict[str, Any]


class Result(TypedDict, total=False):
    """``result``: the keys appear as the command gets that far (release/docs/json.md)."""

    # build, gather
    build: JSONObject  # the manifest as written (Manifest.to_json)
    gather: JSONObject  # the merged manifest
    matrix: JSONObject  # wheels found, suggested expected-wheels, missing, unexpected
    pypi_rules: list[JSONObject]  # PyPI's offline rules' findings over the built files
    stale_versions: dict[str, str]  # build: wheel member -> its __version__, not the release's
    # upload, plan, verify, release
    plans: dict[str, JSONObject]  # index name -> the guard's plan (Plan.to_json)
    uploads: dict[str, JSONObject]  # index name -> what was sent and proven listed
    audit: dict[str, JSONObject]  # index name -> the post-publish audit
    provenance: dict[str, dict[str, JSONObject]]  # index -> filename -> publisher check
    attestations_made: dict[str, list[str]]  # index -> files signed for this upload
    verified: dict[str, str]  # filename -> sha256, installed and smoke-tested
    listed_on_test: dict[str, str]  # filename -> sha256, listed but not installable here
    # build, verify, release: the job's credentials while the project's code ran (a warning:
    # build code can read them from an ancestor's environment; build in a job without them)
    credentials_in_job: list[str]
    # rehearse
    rehearsal: JSONObject
    # build, upload, verify, release, rehearse: where the time went (step -> seconds: build,
    # reproduce, reproduce_wait, upload_*, proof_*, verify)
    timings: dict[str, float]
    # step -> the step it ran at the same time as (reproduce: "build"); its seconds overlap
    timings_beside: dict[str, str]
    # reproduce (and release, rehearse: the reproducible check before uploading)
    reproduce: JSONObject  # Outcome.to_json: each file's fate, differences and causes
    # doctor
    checks: list[JSONObject]
    ok: bool
    # bump
    current: str
    new: str
    files: list[Any]  # bump: paths edited; init: {"path", "fate"} per file
    tag: str | None
    dry_run: bool
    pushed: bool
    resumed: bool  # bump: pushed an earlier bump whose push had failed
    # init
    target: str
    written: list[str]
    noxfile: str
    noxfile_imports_release: bool
    import_lines: str
    tool_release: str
    advice: list[Any]
    layout: JSONObject
    next_steps: list[str]
    workflow: str

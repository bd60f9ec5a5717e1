"""Time and peak memory of each bounded hostile answer (release/http.py's caps and deadline).

    python bench/bench_hostile.py [--timeout 5] [--mb 200] [--json FILE]
                                  [--links N] [--links-json N] [--links-only]

Each case is one index read (``fetch_index_state``, one attempt, keeping the files of one
version as the commands do) or one sdist download by a fresh Python process, against the
hostile loopback index of the tests (tests/hostile.py), served from this process so that its
memory is not counted. For every case: the exit code the CLI would give, the seconds from the
request to the refusal (measured in the child), and the child's peak RSS (bench/maxrss.py:
ru_maxrss of the whole process, imports included). The honest page is the baseline: a bound
works when its peak stays near the baseline plus the cap (32 MiB), far below the 200 MB the
server offers. ``--links N`` adds an HTML page of N links, read as the commands read it and,
for comparison, keeping every file; ``--links-json N`` the same as a PEP 691 JSON page of N
files (sdists: 200,000 fit under the 32 MiB cap). ``--links-only`` reads the baseline and those
pages only.

Everything is on 127.0.0.1; nothing reaches a real index.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hostile import HostileIndex  # noqa: E402 - after the path insert

MB = 1024 * 1024

READ = """
import json, sys, time
from packaging.version import Version
from release.errors import ReleaseError
from release.index import EVERYTHING, Keep, fetch_index_state
from release.retry import RetryPolicy
url, timeout = sys.argv[1], float(sys.argv[2])
keep = EVERYTHING if sys.argv[3:] == ["everything"] else Keep.of(Version("1.0"))
started = time.monotonic()
try:
    fetch_index_state(url, "demo-pkg", policy=RetryPolicy(attempts=1), timeout=timeout, keep=keep)
    code, error = 0, ""
except ReleaseError as exc:
    code, error = int(exc.exit_code), type(exc).__name__
print(json.dumps({"exit": code, "error": error, "seconds": time.monotonic() - started}))
"""

DOWNLOAD = """
import json, sys, tempfile, time
from pathlib import Path
from release.errors import ReleaseError
from release.verify import _download_url
url, timeout, size = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
started = time.monotonic()
with tempfile.TemporaryDirectory() as tmp:
    try:
        _download_url(url, Path(tmp), timeout, size)
        code, error = 0, ""
    except ReleaseError as exc:
        code, error = int(exc.exit_code), type(exc).__name__
print(json.dumps({"exit": code, "error": error, "seconds": time.monotonic() - started}))
"""


# A file the project hands us (issue 18): the manifest or pyproject.toml, read by the tool.
READ_FILE = """
import json, sys, time
from pathlib import Path
from release.config import read_pyproject
from release.distdir import load_manifest
from release.errors import ReleaseError
what, folder = sys.argv[1], Path(sys.argv[2])
started = time.monotonic()
try:
    load_manifest(folder) if what == "manifest" else read_pyproject(folder)
    code, error = 0, ""
except ReleaseError as exc:
    code, error = int(exc.exit_code), type(exc).__name__
print(json.dumps({"exit": code, "error": error, "seconds": time.monotonic() - started}))
"""

# Trusted publishing's identity token, from the OIDC double of the tests (GitHub's protocol).
IDENTITY = """
import json, os, sys, time
from release.config import IndexSettings
from release.credentials import resolve
from release.errors import ReleaseError
index = IndexSettings("test", "http://127.0.0.1:9/up/", "http://127.0.0.1:9/simple/", "__token__")
environ = json.loads(sys.argv[1])
started = time.monotonic()
try:
    resolve(index, "demo", environ)
    code, error = 0, ""
except ReleaseError as exc:
    code, error = int(exc.exit_code), type(exc).__name__
print(json.dumps({"exit": code, "error": error, "seconds": time.monotonic() - started}))
"""


def file_cases() -> list[tuple[str, dict[str, Any]]]:
    """The manifest / pyproject.toml that never ends, is nested or is huge."""
    import os
    import tempfile

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, what, make in (
            ("manifest nested 100,000 deep", "manifest", "nested"),
            ("manifest of 30 MB", "manifest", "big"),
            ("manifest is a FIFO", "manifest", "fifo"),
            ("manifest links to /dev/zero", "manifest", "zero"),
            ("pyproject.toml is a FIFO", "pyproject", "fifo"),
            ("pyproject.toml links to /dev/zero", "pyproject", "zero"),
        ):
            folder = Path(tmp) / f"{what}-{make}"
            folder.mkdir()
            path = folder / ("release-manifest.json" if what == "manifest" else "pyproject.toml")
            if make == "nested":
                path.write_text("[" * 100_000 + "]" * 100_000)
            elif make == "big":
                path.write_text('{"files": [' + ",".join(['"x"'] * 7_500_000) + "]}")
            elif make == "fifo":
                os.mkfifo(path)
            else:
                path.symlink_to("/dev/zero")
            rows.append((label, run_child(READ_FILE, what, str(folder))))
    return rows


def identity_cases(timeout: float) -> list[tuple[str, dict[str, Any]]]:
    from tests.oidc_double import OIDCDouble

    rows = []
    for label, delay, padding in (
        ("identity provider stalls", 600.0, 0),
        ("identity token of 100 MB", 0.0, 100_000_000),
    ):
        with OIDCDouble() as double:
            double.token_delay, double.token_padding = delay, padding
            environ = double.github_environ() | {
                "HOME": "/nonexistent",
                "RELEASE_TEST_TRUSTED_PUBLISHING_URL": double.base_url,
                "RELEASE_TRUSTED_PUBLISHING": "force",
                "RELEASE_TIMEOUT": str(timeout),
            }
            rows.append((label, run_child(IDENTITY, json.dumps(environ))))
    return rows


def run_child(code: str, *args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "maxrss.py"), sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    result: dict[str, Any] = {}
    for line in lines:
        result.update(line)
    if "exit" not in result:
        raise SystemExit(f"child failed: {proc.stderr[-2000:]}")
    result["peak_mb"] = round(result.pop("maxrss_kb") / 1024, 1)
    result["seconds"] = round(result["seconds"], 2)
    result.pop("returncode", None)
    return result


Row = Callable[[str, str, dict[str, Any]], None]


def answer_cases(server: HostileIndex, args: argparse.Namespace, row: Row) -> None:
    """The hostile answers, each refused under a bound, and the oversized sdist."""
    server.bomb()
    for label, mode, note in (
        ("trickle, 1 byte/s", "trickle", ""),
        ("stall (no headers)", "stall", ""),
        (f"gzip bomb, {args.mb} MB decoded", "gzip_bomb", f"{len(server.bomb()) // 1024} KB"),
        (f"{args.mb} MB page", "huge", ""),
        ("duplicate JSON keys", "duplicate_keys", ""),
        ("JSON nested 100,000 deep", "deep_json", ""),
        ("file listed twice, two sha256", "duplicate_file", ""),
        ("bad chunked encoding", "bad_chunked", ""),
        ("Content-Length longer than the body", "short_body", ""),
    ):
        server.mode = mode
        row(label, note, run_child(READ, server.index_url, str(args.timeout)))
    server.mode = "page"
    server.file_bytes = b"x" * (args.mb * MB)
    url = server.base_url + "/files/demo_pkg-1.0.tar.gz"
    result = run_child(DOWNLOAD, url, str(args.timeout), str(MB))
    row(f"sdist of {args.mb} MB, manifest says 1 MB", "", result)
    server.file_bytes = b""


def link_cases(server: HostileIndex, args: argparse.Namespace, row: Row) -> None:
    """Pages of many links (--links, --links-json): as the commands read them, and keeping
    every file."""
    for count, mode, kind in (
        (args.links, "many_links", "HTML page"),
        (args.links_json, "many_links_json", "JSON page"),
    ):
        if not count:
            continue
        server.links, server.mode = count, mode
        for label, keep in (
            (f"{kind} of {count:,} links", "version"),
            ("the same, every file kept", "everything"),
        ):
            result = run_child(READ, server.index_url, "600", keep)
            row(label, "keep=EVERYTHING (for comparison)" if keep == "everything" else "", result)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=5.0, help="the timeout setting (s)")
    parser.add_argument("--mb", type=int, default=200, help="size of the page and of the bomb")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument(
        "--links", type=int, default=0, help="also read an HTML page of this many links (slow)"
    )
    parser.add_argument(
        "--links-json", type=int, default=0, help="also read a JSON page of this many files (slow)"
    )
    parser.add_argument(
        "--links-only", action="store_true", help="only the baseline and the pages of many links"
    )
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []

    def row(label: str, note: str, result: dict[str, Any]) -> None:
        rows.append({"case": label, "note": note, **result})
        print(f"{label:36} {result}", file=sys.stderr, flush=True)

    with HostileIndex() as server:
        server.bomb_mb = server.huge_mb = args.mb
        server.interval = 1.0  # one byte a second
        server.mode = "page"
        row("honest page (baseline)", "", run_child(READ, server.index_url, str(args.timeout)))
        if not args.links_only:
            answer_cases(server, args, row)
        link_cases(server, args, row)
    if not args.links_only:
        for label, result in file_cases() + identity_cases(args.timeout):
            row(label, "", result)
    print("| case | exit | refused as | seconds | peak RSS (MB) |")
    print("|---|---|---|---|---|")
    for done in rows:
        print(
            f"| {done['case']} | {done['exit']} | {done['error'] or '-'} | {done['seconds']} "
            f"| {done['peak_mb']} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

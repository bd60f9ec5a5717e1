"""What the benchmarks share: medians, interleaved runs, a results table, fake releases on disk.

Everything runs on 127.0.0.1; the indexes are real pypiservers (release.localindex.LocalIndex),
in this process, started fresh for each run so that every run uploads a new version.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from release.distdir import hash_file, write_manifest  # noqa: E402
from release.manifest import DistFile, Manifest, kind_of  # noqa: E402
from tests.sample_projects import write_project  # noqa: E402


@dataclasses.dataclass
class Row:
    """One line of the results table."""

    name: str
    ours: float  # median
    baseline: float | None  # median of the thing we compare with, if any
    unit: str  # "s", "MB"
    target: str
    runs: int
    note: str = ""
    ours_label: str = "ours"
    baseline_label: str = ""
    before: float | None = None  # median of the same side at --before REF, in the same run
    # the goal, checked: ratio <= max_ratio, or ours <= max_value (in ``unit``)
    max_ratio: float | None = None
    max_value: float | None = None
    load: str = ""  # the machine's 1-minute load average while the row ran: min-max

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.ours / self.baseline

    @property
    def met(self) -> str:
        ratio = self.ratio
        if self.max_ratio is not None and ratio is not None:
            return "yes" if ratio <= self.max_ratio else "NO"
        if self.max_value is not None:
            return "yes" if self.ours <= self.max_value else "NO"
        return ""


class LoadMonitor:
    """Samples the 1-minute load average (``/proc/loadavg``) every ``every`` seconds in a
    daemon thread: the machine is shared, so every figure is shown with the load it ran under."""

    def __init__(self, every: float = 2.0) -> None:
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._every = every
        self._thread = threading.Thread(target=self._run, name="load-monitor", daemon=True)
        self._thread.start()

    @staticmethod
    def now() -> float | None:
        try:
            return float(Path("/proc/loadavg").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return os.getloadavg()[0] if hasattr(os, "getloadavg") else None

    def _run(self) -> None:
        while not self._stop.is_set():
            value = self.now()
            if value is not None:
                self.samples.append((time.monotonic(), value))
            self._stop.wait(self._every)

    def between(self, start: float, end: float) -> str:
        values = [v for t, v in self.samples if start <= t <= end] or [
            v for _t, v in self.samples[-1:]
        ]
        if not values:
            return "?"
        return f"{min(values):.1f}-{max(values):.1f}"

    def stop(self) -> None:
        self._stop.set()


def uvless_path(path: str) -> str:
    """PATH without the folders that hold a ``uv``: the benchmarks run as on a machine where
    nothing but Python and pip is installed (nox-release brings its own, pinned uv)."""
    keep = [d for d in path.split(os.pathsep) if d and not shutil.which("uv", path=d)]
    return os.pathsep.join(keep)


def checkout(ref: str, into: Path) -> Path:
    """A fresh clone of this repository at ``ref`` (the "before" side of the benchmarks)."""
    subprocess.run(["git", "clone", "--quiet", "--shared", str(REPO), str(into)], check=True)
    checkout = ["git", "-C", str(into), "-c", "advice.detachedHead=false", "checkout", "-q", ref]
    subprocess.run(checkout, check=True)
    return into


def check(condition: bool, what: str) -> None:
    """A benchmark that did not do the work it times is a failure, not a figure."""
    if not condition:
        raise RuntimeError(f"benchmark check failed: {what}")


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def interleave(
    runs: int, a: Callable[[int], float], b: Callable[[int], float], log: Callable[[str], None]
) -> tuple[list[float], list[float]]:
    """Run ``a`` and ``b`` ``runs`` times each, alternating which goes first (ABBA...), so
    that drift on a shared, noisy machine hits both alike."""
    first, second = interleave_many(runs, [("A", a), ("B", b)], log)
    return first, second


def interleave_many(
    runs: int, sides: Sequence[tuple[str, Callable[[int], float]]], log: Callable[[str], None]
) -> list[list[float]]:
    """Each side ``runs`` times, the order rotating from run to run."""
    times: list[list[float]] = [[] for _ in sides]
    for i in range(runs):
        order = list(range(len(sides)))
        shift = i % len(sides)
        order = order[shift:] + order[:shift]
        if i % 2:
            order.reverse()
        for k in order:
            label, fn = sides[k]
            seconds = fn(i)
            times[k].append(seconds)
            log(f"  run {i + 1}/{runs} {label}: {seconds:.2f}")
    return times


def run_timed(
    argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, what: str, timeout: float = 600
) -> float:
    """Wall time of one command; its output is kept only to show it when it fails."""
    started = time.perf_counter()
    proc = subprocess.run(
        list(argv), env=dict(env), cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-30:])
        raise RuntimeError(f"{what} failed (exit {proc.returncode}):\n{tail}")
    return seconds


def base_env(code: Path = REPO) -> dict[str, str]:
    """The environment for child processes: ours, minus anything that could reach a real
    index or leak a real credential, and without uv on PATH (see :func:`uvless_path`).
    ``code``: the checkout whose ``release/`` runs (this one, or the "before" clone)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RELEASE_", "TWINE_", "PYPI_", "TEST_PYPI_", "PIP_INDEX", "UV_"))
    }
    env["PATH"] = uvless_path(env.get("PATH", os.defpath))
    env["PYTHONPATH"] = str(code)
    env["CI"] = "1"  # never prompt
    env["PYTHONUNBUFFERED"] = "1"
    return env


def compile_release(code: Path = REPO) -> None:
    """Compile ``code``'s ``release/`` to bytecode once, before the timed runs: the baseline's
    twine starts from the .pyc files its install wrote (the bench session installs with
    bytecode), and so does ``python -m release`` on a user's machine from the second command of
    a job on (Python writes release/__pycache__ on the first). Without this, where
    PYTHONDONTWRITEBYTECODE is set (this machine), every run of ours compiled release/ again."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(code / "release")],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def twine_upload_argv(upload_url: str, paths: Sequence[Path | str]) -> list[str]:
    """The baseline: a plain ``twine upload`` (its password comes from TWINE_PASSWORD)."""
    return [
        sys.executable,
        "-m",
        "twine",
        "upload",
        "--non-interactive",
        "--disable-progress-bar",
        "--repository-url",
        upload_url,
        *(str(p) for p in paths),
    ]


def fake_release(root: Path, name: str, version: str, files: Sequence[Path]) -> Manifest:
    """A project whose dist/ already holds ``files`` and their manifest, as `build` leaves it."""
    write_project(root, name, version, build_isolation=True)
    dist = root / "dist"
    dist.mkdir(exist_ok=True)
    entries = []
    for path in files:
        target = dist / path.name
        if path != target:
            path.replace(target)
        sha, size = hash_file(target)
        entries.append(DistFile(target.name, sha, size, kind_of(target.name)))
    manifest = Manifest(name, version, tuple(entries))
    write_manifest(dist, manifest)
    return manifest


def print_table(rows: Sequence[Row], out: Callable[[str], None] = print) -> None:
    header = ("benchmark", "ours", "before", "baseline", "ratio", "goal", "met", "load", "runs")
    lines = [header]
    for r in rows:
        fmt = "{:.2f} " + r.unit if r.unit == "s" else "{:.0f} " + r.unit
        ours = fmt.format(r.ours)
        before = fmt.format(r.before) if r.before is not None else "-"
        base = fmt.format(r.baseline) if r.baseline is not None else "-"
        if r.baseline_label and r.baseline is not None:
            base += f" ({r.baseline_label})"
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "-"
        if r.before is not None and r.baseline:
            ratio += f" (before {r.before / r.baseline:.2f}x)"
        cells = (r.name, ours, before, base, ratio, r.target, r.met, r.load, str(r.runs))
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for n, line in enumerate(lines):
        out("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        if n == 0:
            out("  ".join("-" * w for w in widths))
    for r in rows:
        if r.note:
            out(f"* {r.name}: {r.note}")

"""The mutation gate: mutmut, one module at a time, each with the tests that exercise it.

Run by ``nox -s mutate`` (``python -m tests.mutation.gate [MODULE ...] [--resume] [--min N]``).
For each module of :data:`MODULES` it lays out a work folder ``.mutate/<module>/`` (the
repository's ``release/`` and ``tests/`` linked in, ``pyproject.toml`` copied with
``[tool.mutmut]`` narrowed to that module and its tests), runs ``mutmut run`` there (mutmut copies
the tree into ``.mutate/<module>/mutants/`` and mutates only that copy), reads the verdicts from
``mutmut results --all true`` and prints one table::

    | module | mutants | equivalent | killed | survived | score |

The score is killed / (mutants - equivalent). Equivalent mutants (no behaviour change) are
listed in ``tests/mutation/equivalent.txt``, one per line with the reason. Each survivor's diff is
written to ``.mutate/<module>/survivors.txt`` (``mutmut show``). The exit status is 1 when a
module scores below ``--min`` (95 by default), when a run did not finish, or when the
equivalent list names a mutant that no longer exists or that the tests now kill (a stale line
hides nothing, so it must go).

mutmut is driven through its command line and its documented configuration only; one work
folder per module keeps each module's test selection, and its cached verdicts, apart (mutmut
reads its configuration from the working folder's ``pyproject.toml``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import tomlkit

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / ".mutate"
EQUIVALENT = Path(__file__).resolve().parent / "equivalent.txt"
MIN_SCORE = 95.0

# module -> the tests that exercise it (the fast set; mutmut runs, for each mutant, only those
# of them that call the mutated function), as pytest arguments.
MODULES: dict[str, tuple[str, ...]] = {
    "guard": ("tests/test_guard.py",),
    "destinations": ("tests/test_destinations.py", "tests/test_hostile.py"),
    "redact": ("tests/test_redact.py",),
    "versions": ("tests/test_versions.py",),
    "pypi_rules": (
        "tests/test_pypi_rules.py",
        "tests/test_warehouse_agreement.py",
        # every classifier PyPI knows, one by one: a minute a mutant
        "--deselect=tests/test_warehouse_agreement.py::"
        "test_every_classifier_pypi_accepts_is_accepted_and_every_deprecated_one_refused",
    ),
    "tokens": ("tests/test_tokens.py",),
    "matrix": ("tests/test_matrix.py",),
    "merge": ("tests/test_matrix.py",),
    "manifest": ("tests/test_manifest.py", "tests/test_hostile.py", "tests/test_gather.py"),
}

# mutmut's verdicts: which count as the tests noticing the mutant.
KILLED = frozenset({"killed", "timeout", "segfault", "caught by type check"})
SURVIVED = frozenset({"survived", "no tests", "suspicious"})
_NOT_LINKED = frozenset({".git", ".nox", ".mutate", "mutants", "pyproject.toml"})
_RESULT = re.compile(r"^\s+(\S+): (.+?)\s*$")


class MutmutFailed(Exception):
    """A mutmut command failed (the tests failed without a mutant, a missing package...)."""


@dataclasses.dataclass
class Score:
    """One module's verdicts, the equivalent mutants set apart."""

    module: str
    mutants: int = 0
    equivalent: int = 0
    killed: int = 0
    survivors: list[str] = dataclasses.field(default_factory=list)
    unchecked: list[str] = dataclasses.field(default_factory=list)
    stale: list[str] = dataclasses.field(default_factory=list)
    failed: str = ""  # why mutmut did not run to the end

    @property
    def score(self) -> float:
        real = self.mutants - self.equivalent
        return 100.0 * self.killed / real if real else 100.0

    def row(self) -> str:
        if self.failed:
            return f"| `{self.module}.py` | - | - | - | - | mutmut failed |"
        return (
            f"| `{self.module}.py` | {self.mutants} | {self.equivalent} | {self.killed} "
            f"| {len(self.survivors)} | {self.score:.1f}% |"
        )


def read_equivalent(text: str) -> dict[str, str]:
    """``mutant name -> reason`` from the equivalent list (``#`` comments, blank lines)."""
    out: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition(" ")
        if not reason.strip():
            raise SystemExit(f"{EQUIVALENT.name}:{number}: {name} has no reason; say why.")
        out[name] = reason.strip()
    return out


def parse_results(output: str) -> dict[str, str]:
    """``mutant name -> verdict`` from ``mutmut results --all true``."""
    return {m[1]: m[2] for m in map(_RESULT.match, output.splitlines()) if m}


def score_module(module: str, verdicts: dict[str, str], equivalent: dict[str, str]) -> Score:
    """The module's score: its equivalent mutants out, a listed one that is killed is stale."""
    prefix = f"release.{module}."
    mine = {n: v for n, v in verdicts.items() if n.startswith(prefix)}
    score = Score(module, mutants=len(mine))
    score.stale = sorted(n for n in equivalent if n.startswith(prefix) and n not in mine)
    for name, verdict in sorted(mine.items()):
        if name in equivalent:
            score.equivalent += 1
            if verdict in KILLED:
                score.stale.append(name)
        elif verdict in KILLED:
            score.killed += 1
        elif verdict in SURVIVED:
            score.survivors.append(name)
        else:  # "not checked", "skipped", interrupted: the run did not finish
            score.unchecked.append(name)
    return score


def _layout(module: str, tests: Sequence[str], resume: bool) -> Path:
    work = WORK / module
    if not resume and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    for source in ROOT.iterdir():  # the tree as it is (tests read docs/, README.md, ...)
        link = work / source.name
        if source.name not in _NOT_LINKED and not link.exists():
            link.symlink_to(source, target_is_directory=source.is_dir())
    doc = tomlkit.parse((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    settings = doc["tool"]["mutmut"]
    settings["only_mutate"] = [f"release/{module}.py"]
    settings["pytest_add_cli_args_test_selection"] = list(tests)
    (work / "pyproject.toml").write_text(tomlkit.dumps(doc), encoding="utf-8")
    return work


def _mutmut(work: Path, *args: str, log: Path | None = None) -> str:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "mutmut", *args]
    if log is None:
        done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
        output = done.stdout
    else:
        with log.open("w", encoding="utf-8") as sink:
            done = subprocess.run(command, cwd=work, env=env, stdout=sink, stderr=sink, text=True)
        output = ""
    if done.returncode != 0:
        where = log or "its output"
        raise MutmutFailed(
            f"mutmut {' '.join(args)} failed in {work} (exit {done.returncode}); see {where}"
        )
    return output


def _names(survivors: str) -> list[str]:
    """The mutant names in a survivors.txt (names alone, or `mutmut show` diffs)."""
    return re.findall(r"^(?:# )?(release\.\S+?)(?::|$)", survivors, re.MULTILINE)


def run_module(
    module: str, equivalent: dict[str, str], *, resume: bool, diffs: bool, recheck: bool = False
) -> Score:
    """mutmut on ``release/<module>.py`` with its tests; the survivors' diffs to a file."""
    work = _layout(module, MODULES[module], resume or recheck)
    print(f"mutate: {module} ({', '.join(MODULES[module])})", flush=True)
    survivors = work / "survivors.txt"
    again = _names(survivors.read_text(encoding="utf-8")) if recheck and survivors.exists() else []
    try:
        _mutmut(work, "run", *again, log=work / "run.log")
    except MutmutFailed as exc:
        print(exc, flush=True)
        return Score(module, failed=str(exc))
    score = score_module(
        module, parse_results(_mutmut(work, "results", "--all", "true")), equivalent
    )
    # `mutmut show` takes seconds a mutant: the diffs on request, the names always.
    lines = [_mutmut(work, "show", n) if diffs else n for n in score.survivors]
    (work / "survivors.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(score.row(), flush=True)
    return score


def report(scores: Iterable[Score], minimum: float) -> int:
    """The table, then what fails the gate; the exit status."""
    scores = list(scores)
    print("\n| module | mutants | equivalent | killed | survived | score |")
    print("|---|---|---|---|---|---|")
    for score in scores:
        print(score.row())
    status = 0
    for s in scores:
        if s.failed:
            print(f"{s.module}: {s.failed}")
            status = 1
        if s.unchecked:
            print(f"{s.module}: {len(s.unchecked)} mutants not checked (run again)")
            status = 1
        if s.stale:
            print(
                f"{s.module}: stale in {EQUIVALENT.name} (gone or now killed): {' '.join(s.stale)}"
            )
            status = 1
        if s.score < minimum:
            survivors = f".mutate/{s.module}/survivors.txt"
            print(f"{s.module}: {s.score:.1f}% < {minimum}%; the survivors are in {survivors}")
            status = 1
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nox -s mutate --", description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=", ".join(MODULES))
    parser.add_argument(
        "--resume", action="store_true", help="keep .mutate/<module>/ and its cache"
    )
    parser.add_argument(
        "--recheck",
        action="store_true",
        help="keep .mutate/<module>/ and run only the last run's survivors again (after new tests)",
    )
    parser.add_argument("--diffs", action="store_true", help="survivors.txt with each diff")
    parser.add_argument("--min", type=float, default=MIN_SCORE, help="lowest passing score (%%)")
    options = parser.parse_args(argv)
    unknown = sorted(set(options.modules) - set(MODULES))
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}; choose from {', '.join(MODULES)}")
    equivalent = read_equivalent(EQUIVALENT.read_text(encoding="utf-8"))
    modules = options.modules or list(MODULES)
    return report(
        (
            run_module(
                m, equivalent, resume=options.resume, diffs=options.diffs, recheck=options.recheck
            )
            for m in modules
        ),
        options.min,
    )


if __name__ == "__main__":
    raise SystemExit(main())

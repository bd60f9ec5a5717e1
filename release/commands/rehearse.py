"""``nox -s rehearse``: the whole release against two local throw-away indexes.

Two real pypiservers on 127.0.0.1 (ephemeral ports, ``disable_fallback``, uploads behind a
generated password that only this process knows) stand in for TestPyPI and PyPI. The project
is built into a temporary dist/ (yours is not touched), uploaded, installed from the "test"
index in fresh environments (its dependencies from your normal pip index), uploaded to "prod";
then the same version is offered again, unchanged (nothing to do) and changed (refused before a
byte is sent). A summary with hashes closes it; the servers and files are gone afterwards.
"""

from __future__ import annotations

__all__ = ["configure", "rehearse", "run"]

import argparse
import contextlib
import dataclasses
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from ..config import Settings, load_settings
from ..credentials import Credential
from ..distdir import hash_file, write_manifest
from ..errors import ConfigError, ExitCode, GuardRefusal
from ..localindex import LocalIndex
from ..manifest import DistFile, Manifest
from ..output import Reporter
from .build import build
from .checks import refuse_early
from .context import Context
from .gather import gather
from .reproduce import beside_build, gate
from .upload import upload
from .verify import prepare_verify, verify

_VERDICTS = {
    "identical": "a clean rebuild of the commit gave the very same bytes",
    "differs": "a clean rebuild of the commit gave other bytes: see the warning above",
    "cannot": "not checked (no clean commit to rebuild: commit your changes)",
    "off": 'not checked (reproducible = "off")',
}


@dataclasses.dataclass(frozen=True)
class RehearsalResult:
    manifest: Manifest
    test_files: list[str]
    prod_files: list[str]
    rerun_nothing_to_do: bool
    changed_bytes_refused: bool


_OTHER_STAMP = (2001, 2, 3, 4, 5, 6)


def _restamp(source: Path, target: Path) -> None:
    """``source`` written again with other member timestamps: what a rebuild without
    SOURCE_DATE_EPOCH leaves. Other bytes, still a wheel PyPI's rules accept (an archive comment
    would not be: PyPI refuses those), so the refusal that follows is the guard's, by sha256."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            stamp = _OTHER_STAMP if info.date_time != _OTHER_STAMP else (2002, 2, 3, 4, 5, 6)
            copy = zipfile.ZipInfo(info.filename, date_time=stamp)
            copy.compress_type = info.compress_type
            copy.external_attr = info.external_attr
            new.writestr(copy, old.read(info.filename))


def _tampered_copy(dist: Path, manifest: Manifest, into: Path) -> Manifest:
    """dist/ as a second build with other bytes would leave it: same names, other wheel bytes."""
    into.mkdir(parents=True)
    files = []
    for f in manifest.files:
        target = into / f.filename
        if f.kind == "wheel":
            _restamp(dist / f.filename, target)
        else:
            shutil.copy2(dist / f.filename, target)
        sha, size = hash_file(target)
        files.append(DistFile(f.filename, sha, size, f.kind))
    changed = Manifest(manifest.name, manifest.version, tuple(files))
    write_manifest(into, changed)
    return changed


def _build(ctx: Context, tmp: Path, wheels: Sequence[Path]) -> Manifest:
    """sdist + wheel built here; or, with ``wheels`` (folders of wheels another tool made:
    auditwheel, cibuildwheel), the sdist built here and those wheels, each recorded as
    ``build --wheel --from`` does and gathered into one release, as the compiled workflow does."""
    if not wheels:
        return build(ctx)
    parts = tmp / "parts"

    def part(name: str) -> Context:
        return dataclasses.replace(
            ctx, settings=ctx.settings.with_values(dist_dir=str(parts / name))
        )

    build(part("sdist"), "sdist", gathered_here=True)
    for n, folder in enumerate(wheels):
        build(part(f"wheels-{n}"), "wheel", folder, gathered_here=True)
    folders = sorted(parts.iterdir())
    return gather(ctx.settings, folders, ctx.reporter, rehearsal=True)


def rehearse(
    settings: Settings,
    environ: dict[str, str],
    out: Reporter,
    wheels: Sequence[Path] = (),
) -> RehearsalResult:
    with (
        tempfile.TemporaryDirectory(prefix="nox-release-rehearse-") as tmp,
        LocalIndex(Path(tmp) / "test-index") as test,
        LocalIndex(Path(tmp) / "prod-index") as prod,
    ):
        out.line(f"local test index: {test.index_url} (uploads: {test.upload_url})", "info")
        out.line(f"local prod index: {prod.index_url} (uploads: {prod.upload_url})", "info")
        local = settings.with_values(
            test_upload_url=test.upload_url,
            test_index_url=test.index_url,
            prod_upload_url=prod.upload_url,
            prod_index_url=prod.index_url,
            test_username=test.username,
            prod_username=prod.username,
            dist_dir=str(Path(tmp) / "dist"),
            wait_timeout=min(float(settings.get("wait-timeout")), 30.0),
            # the local indexes stand in for PyPI: hold them to PyPI's upload rules, so a
            # green rehearsal means PyPI would take the release
            index_rules="pypi",
            # one machine builds one wheel: the matrix is gather's to check
            # (release/docs/compiled.md)
            expected_wheels=[],
        )
        if settings.get("expected-wheels"):
            out.line(
                "expected-wheels is not checked: a rehearsal builds on this machine only", "info"
            )
        ctx = Context(
            settings=local,
            environ=environ,
            reporter=out,
            credentials={
                "test": Credential(test.username, test.password, "generated for the rehearsal"),
                "prod": Credential(prod.username, prod.password, "generated for the rehearsal"),
            },
            deps_from_pip_config=True,
        )
        with prepare_verify(ctx) as prepared:
            # the verdict a release would see, before any upload: the commit rebuilt beside
            # the build (with --wheels, after it: the release is gathered from parts)
            with beside_build(ctx) if not wheels else contextlib.nullcontext() as beside:
                manifest = _build(ctx, Path(tmp), wheels)
                refuse_early(ctx, manifest)
                reproducible = gate(ctx, beside)
            upload(ctx, "test")
            manifest = verify(ctx, prepared)
        upload(ctx, "prod")

        out.heading("again: the same version, the same bytes")
        again = upload(ctx, "prod")
        nothing = not again.to_upload

        out.heading("again: the same version, other bytes (a rebuild)")
        changed_dir = Path(tmp) / "rebuilt"
        _tampered_copy(local.dist_dir, manifest, changed_dir)
        changed_ctx = dataclasses.replace(
            ctx, settings=local.with_values(dist_dir=str(changed_dir)), require_verified=False
        )
        refused = False
        try:
            upload(changed_ctx, "prod")
        except GuardRefusal as exc:
            # refused for its bytes (the guard's sha256 comparison), not for another reason
            refused = "with other bytes" in exc.message
            out.ok("refused before sending a byte, as it should be:")
            for text in exc.message.splitlines():
                out.line("    " + text)
            out.line(f"    Fix: {exc.fix}")
        if not refused:
            raise GuardRefusal(
                "The guard let a changed file of an existing version through (or refused it for "
                "another reason than its bytes).",
                "This is a bug in nox-release: please report it.",
            )
        uploads_before = prod.uploads
        result = RehearsalResult(
            manifest=manifest,
            test_files=test.files(),
            prod_files=prod.files(),
            rerun_nothing_to_do=nothing,
            changed_bytes_refused=refused and prod.uploads == uploads_before,
        )
    out.document["rehearsal"] = {
        "project": manifest.name,
        "version": manifest.version,
        "files": {f.filename: f.sha256 for f in manifest.files},
        "test_index_files": result.test_files,
        "prod_index_files": result.prod_files,
        "rerun_nothing_to_do": result.rerun_nothing_to_do,
        "changed_bytes_refused": result.changed_bytes_refused,
        "index_rules": "pypi",
        "reproducible": reproducible,
    }
    out.add_summary(
        f"{manifest.name} {manifest.version}: rehearsed end to end on two local "
        "indexes (now deleted)"
    )
    for f in manifest.files:
        out.add_summary(f"{f.filename} -> test ✓ verified ✓ prod ✓\n    sha256 {f.sha256}")
    out.add_summary(f"reproducible: {_VERDICTS[reproducible]}")
    out.add_summary("re-upload of the same bytes: nothing to do (exit 0)")
    out.add_summary("re-upload of other bytes under the same version: refused before sending")
    out.add_summary(
        "PyPI's upload rules (platform tags, metadata, README, sizes: release/docs/pypi-rules.md): "
        "passed on both indexes"
    )
    out.add_summary("next: `nox -s doctor` to check your real credentials, then `nox -s release`")
    return result


def configure(command: str, parser: argparse.ArgumentParser) -> None:
    del command  # the Command protocol's signature; one parser per command
    parser.add_argument(
        "--wheels",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="rehearse with the wheels in DIR (repaired by auditwheel, or cibuildwheel's "
        "wheelhouse) and the sdist built here, instead of this machine's own wheel: a "
        "compiled project's linux_x86_64 wheel is one PyPI refuses (repeatable)",
    )


def run(args: argparse.Namespace, environ: dict[str, str], out: Reporter) -> int:
    out.line(
        "Rehearsal: the whole release against two local throw-away indexes. Nothing "
        "leaves this machine except fetching build and runtime dependencies from your "
        "normal pip index."
    )
    out.summary_title = "Rehearsal summary"
    wheels = [p if p.is_absolute() else args.root / p for p in args.wheels]  # like --root
    for folder in wheels:
        if not folder.is_dir() or not any(folder.glob("*.whl")):
            raise ConfigError(
                f"--wheels {folder}: no wheels there.",
                "Build and repair the wheels first (release/docs/compiled.md: `python -m build "
                "--wheel --outdir dist/raw`, `auditwheel repair dist/raw/*.whl -w "
                "dist/wheelhouse`), "
                "then run nox -s rehearse -- --wheels dist/wheelhouse again.",
            )
    rehearse(load_settings(args.root, environ), environ, out, wheels)
    return int(ExitCode.OK)

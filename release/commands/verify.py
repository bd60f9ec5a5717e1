"""``python -m release verify``: install the release from the test index in brand-new
environments, import it and smoke-test it; record what was verified in the manifest."""

from __future__ import annotations

__all__ = ["configure", "dependency_index", "prepare_verify", "run", "verify"]

import argparse

from ..distdir import write_manifest
from ..endpoints import same_url, strip_credentials
from ..errors import (
    ConfigError,
    ExitCode,
    ReleaseError,
    VerificationFailed,
)
from ..indexstate import VERSIONS
from ..manifest import Manifest
from ..output import Reporter
from ..verify import Prepared, VerifyOptions, verify_release
from ..verifyadvice import taken_on_prod
from .checks import (
    check_provenance,
    import_names,
    warn_code_beside_credentials,
    what_verify_checks,
)
from .context import Context, check_writable, from_args, load_checked


def dependency_index(ctx: Context) -> str | None:
    """Where verify takes dependencies from: the dependency index, the prod index by default,
    ``None`` for the user's own pip configuration; never the test index."""
    settings = ctx.settings
    deps: str | None = settings.get("dependency-index-url") or settings.index("prod").index_url
    if ctx.deps_from_pip_config or deps == "pip":
        deps = None  # the user's own pip configuration
    if deps and same_url(deps, settings.index("test").index_url):
        raise ConfigError(
            "dependency-index-url is the test index: dependencies would come from TestPyPI, "
            "where anyone can register any name (dependency confusion).",
            "Leave dependency-index-url unset (the prod index) or point it at a trusted index.",
        )
    return deps


def prepare_verify(ctx: Context) -> Prepared:
    """Start making verify's fresh environments now (in the background, while the build, the
    upload to the test index and its proof run); a context manager for :func:`verify`."""
    sdist = bool(ctx.settings.get("verify-sdist"))
    return Prepared(dependency_index(ctx), sdist, ctx.environ)


def verify(ctx: Context, prepared: Prepared | None = None) -> Manifest:
    """Install the release from the test index (``prepared``: environments made ahead)."""
    with ctx.reporter.timed("verify"):
        return _verify(ctx, prepared)


def _verify(ctx: Context, prepared: Prepared | None) -> Manifest:
    settings, out = ctx.settings, ctx.reporter
    index = settings.index("test")
    out.heading(f"verify_test_install: from {strip_credentials(index.index_url)}")
    warn_code_beside_credentials(
        ctx.environ,
        out,
        "The project's code (pip builds the sdist: setup.py, the build backend; the import "
        "and the smoke command run the package)",
    )
    deps = dependency_index(ctx)
    manifest = load_checked(ctx)
    smoke = str(settings.get("smoke-command"))
    imports = import_names(ctx, manifest)
    checks = what_verify_checks(manifest, imports, smoke)
    if not ctx.dry_run:
        check_writable(settings.dist_dir)  # verify records what it verified in the manifest
    if ctx.dry_run:
        out.line(
            f"would wait for {manifest.name} {manifest.version} on the test index, install "
            f"it in fresh environments (dependencies from {deps or 'your pip config'}) "
            f"and check it: {checks}"
        )
        return manifest
    proved, listed = ctx.proofs.get("test", ((), None))
    if listed is None or proved != manifest.files:  # not this run's upload: read it now
        listed = ctx.await_listed(index, manifest, f"{manifest.name} {manifest.version}")
    out.ok(f"the test index lists all {len(manifest.files)} file(s) with our sha256")
    options = VerifyOptions(
        test_index_url=index.index_url,
        deps_index_url=deps,
        smoke_command=str(settings.get("smoke-command")),
        import_names=imports,
        verify_sdist=bool(settings.get("verify-sdist")),
        timeout=ctx.timeout,
        import_names_configured=bool(settings.get("import-names")),
    )
    try:
        verified = verify_release(manifest, listed, options, ctx.environ, out, prepared)
    except VerificationFailed as exc:
        raise _as_prod_stands(ctx, manifest, exc) from None
    # Wheels for other platforms cannot be installed here; the index lists them with our
    # sha256 (checked above), which is all that can be proved on this machine.
    done = {f.filename for f in verified}
    others = [f for f in manifest.files if f.filename not in done]
    for f in others:
        out.warn(
            f"{f.filename}: listed on the test index with our sha256; not installable "
            "on this machine, so not installed"
        )
    check_provenance(ctx, index, manifest)
    # "verified" means installed and smoke-tested, nothing less: the others are recorded as
    # listed on the test index, and upload_prod says so when it sends them.
    manifest = manifest.with_verified(verified, index.index_url, listed=others)
    write_manifest(settings.dist_dir, manifest)
    out.document["verified"] = dict(manifest.verified)
    out.document["listed_on_test"] = dict(manifest.listed_on_test)
    out.add_summary(f"test index: installed {', '.join(sorted(done))}; {checks}")
    if others:
        out.add_summary(
            f"test index: listed with our sha256, not installed: "
            f"{', '.join(sorted(f.filename for f in others))}"
        )
    return manifest


def _as_prod_stands(ctx: Context, manifest: Manifest, exc: VerificationFailed) -> Exception:
    """The failure, its fix saying whether the version is still free on the prod index: it is
    unless this verify runs after upload_prod (read the prod index to know; unread, unchanged)."""
    try:
        prod = ctx.read(ctx.settings.index("prod"), manifest.name, VERSIONS)
    except ReleaseError:
        return exc
    if manifest.parsed_version not in prod.versions:
        return exc
    return VerificationFailed(exc.message, taken_on_prod(exc.fix, manifest.version))


def configure(_command: str, _parser: argparse.ArgumentParser) -> None:
    """verify has no options of its own (--json and --dry-run are declared in release.cli)."""


def run(args: argparse.Namespace, environ: dict[str, str], out: Reporter) -> int:
    verify(from_args(args, environ, out))
    return int(ExitCode.OK)

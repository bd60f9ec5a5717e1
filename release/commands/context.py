"""What every pipeline command starts from: the settings, the environment, the reporter, the
credentials resolved so far; dist/ loaded and checked against its manifest.

Commands take a :class:`Context`, so ``rehearse`` and the tests can point them at local
indexes and hand them credentials directly.
"""

from __future__ import annotations

__all__ = ["Context", "check_writable", "from_args", "load_checked"]

import argparse
import dataclasses
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from .. import attestations, signing
from ..config import IndexSettings, Settings, load_settings
from ..credentials import Credential, resolve
from ..distdir import check_dist, load_manifest
from ..errors import (
    DistError,
)
from ..index import Keep, await_listed, fetch_index_state
from ..indexstate import IndexState
from ..manifest import MANIFEST_NAME, DistFile, Manifest
from ..output import Reporter
from ..project import declared_info
from ..retry import RetryPolicy


@dataclasses.dataclass
class Context:
    settings: Settings
    environ: Mapping[str, str]
    reporter: Reporter
    dry_run: bool = False
    credentials: dict[str, Credential] = dataclasses.field(default_factory=dict)
    # rehearse: take dependencies from the user's normal pip index instead of the prod index
    deps_from_pip_config: bool = False
    require_verified: bool | None = None  # None: the setting decides
    # Makes attestations for an upload (tests pass their own); None: sigstore as this CI job.
    signer: signing.Signer | None = None
    # The proof read after each upload (index name -> (files proved, what the index listed)):
    # verify reuses the test index's instead of reading it again.
    proofs: dict[str, tuple[tuple[DistFile, ...], IndexState]] = dataclasses.field(
        default_factory=dict
    )

    @property
    def policy(self) -> RetryPolicy:
        return RetryPolicy.from_settings(self.settings)

    @property
    def timeout(self) -> float:
        return float(self.settings.get("timeout"))

    def read(self, index: IndexSettings, project: str, keep: Keep) -> IndexState:
        """The index's state for ``project``, keeping the files ``keep`` names (of the others
        only their versions: a page of many files costs little)."""

        def on_retry(_attempt: int, delay: float, exc: object) -> None:
            self.reporter.line(f"{exc}; reading {index.name} index again in {delay:.1f}s", "wait")

        return fetch_index_state(
            index.index_url,
            project,
            policy=self.policy,
            timeout=self.timeout,
            on_retry=on_retry,
            keep=keep,
        )

    def await_listed(self, index: IndexSettings, manifest: Manifest, what: str) -> IndexState:
        """Read ``index`` until it lists every file of ``manifest`` with our sha256 (the
        proof after an upload, and verify's wait), for at most wait-timeout."""
        return await_listed(
            index.index_url,
            manifest.name,
            manifest.files,
            reporter=self.reporter,
            policy=self.policy,
            timeout=self.timeout,
            wait=float(self.settings.get("wait-timeout")),
            what=what,
        )

    def credential(self, index: IndexSettings, project: str) -> Credential:
        if index.name not in self.credentials:
            interactive = sys.stdin.isatty() and not self.environ.get("CI") and not self.dry_run
            self.credentials[index.name] = resolve(
                index,
                project,
                self.environ,
                interactive=interactive,
                options=self.settings.values,
                dry_run=self.dry_run,
            )
            for warning in self.credentials[index.name].warnings:  # every run, once per index
                self.reporter.warn(warning)
        return self.credentials[index.name]


def load_checked(ctx: Context) -> Manifest:
    dist = ctx.settings.dist_dir
    manifest = load_manifest(dist)
    check_dist(dist, manifest)
    attestations.check_folder(dist, manifest.files)  # none of other bytes, none stray
    if manifest.partial:
        raise DistError(
            f"{dist.name}/{MANIFEST_NAME} is a partial manifest: one runner's share of the "
            "release (build --sdist, --wheel or --from).",
            "Gather every runner's folder into dist/ first: nox -s gather -- DIR... "
            "(or run a plain `nox -s build` for a release built on one machine).",
        )
    info = declared_info(dict(ctx.settings.pyproject))
    if info is not None and info.canonical_name != manifest.canonical_name:
        raise DistError(
            f"dist/ holds {manifest.name} but pyproject.toml names {info.name}.",
            "Run `nox -s build` in this project.",
        )
    return manifest


def check_writable(dist: Path) -> None:
    """dist/ (or the folder it will be made in) takes files: checked before any work."""
    probe = dist
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        if not os.access(probe, os.W_OK | os.X_OK):
            raise PermissionError(13, "not writable")
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as exc:
        raise DistError(
            f"{dist} cannot be written to ({probe}: {exc.strerror or type(exc).__name__}).",
            "Fix the folder's permissions, or set dist-dir (RELEASE_DIST_DIR) to a writable one.",
        ) from None


def from_args(args: argparse.Namespace, environ: dict[str, str], out: Reporter) -> Context:
    """The context of one command line: settings loaded from the project and environment."""
    return Context(
        settings=load_settings(args.root, environ),
        environ=environ,
        reporter=out,
        dry_run=getattr(args, "dry_run", False),
        require_verified=False if getattr(args, "no_require_verified", False) else None,
    )

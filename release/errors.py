"""One base exception, leaves named for what went wrong.

Every message ends with what to do next. Exceptions become exit status in exactly one
place: :func:`release.cli.main`. A message never contains a secret: build messages from
filenames, URLs without credentials, and index answers, never from a token.
"""

from __future__ import annotations

__all__ = [
    "CannotReproduce",
    "ConfigError",
    "CredentialError",
    "DistError",
    "ExitCode",
    "GitFailed",
    "GuardRefusal",
    "IndexRulesRefusal",
    "IndexUnavailable",
    "NotReproducible",
    "ReleaseError",
    "UploadRejected",
    "VerificationFailed",
]

import enum


class ExitCode(enum.IntEnum):
    """Exit status of every command and session (part of the contract, see README)."""

    OK = 0  # success, including "nothing to do: every file is already there"
    FAILURE = 1  # unexpected failure (a bug, or an error we have no name for)
    USAGE = 2  # bad input: arguments, configuration, project metadata, dist/
    REFUSED = 3  # refused before sending: the version exists with other files or bytes, or
    # the index's rules (PyPI's, or index-rules = "pypi") refuse a file of it
    INDEX_UNAVAILABLE = 4  # the index could not be read (fail closed: nothing uploaded)
    UPLOAD_REJECTED = 5  # the index refused an upload (credentials, rules, limits)
    VERIFY_FAILED = 6  # the uploaded release did not install or pass its smoke test
    CREDENTIALS = 7  # no usable credential, or a credential that cannot work
    GIT = 8  # a git command failed (bump: commit, tag, push); see the steps already done
    NOT_REPRODUCIBLE = 9  # a clean rebuild of the recorded commit gave other bytes (reproduce)
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT); run the same command again: it resumes


class ReleaseError(Exception):
    """Base of every error nox-release reports to a person.

    ``message`` says what happened, ``fix`` what to do next; ``str()`` joins them.
    """

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        if self.fix:
            return f"{self.message}\nFix: {self.fix}"
        return self.message


class ConfigError(ReleaseError):
    """pyproject.toml, [tool.release], environment or arguments are unusable."""

    exit_code = ExitCode.USAGE


class DistError(ReleaseError):
    """dist/ and its manifest disagree, or hold the wrong files."""

    exit_code = ExitCode.USAGE


class GuardRefusal(ReleaseError):
    """The index already holds this version with other files or other bytes."""

    exit_code = ExitCode.REFUSED


class IndexRulesRefusal(GuardRefusal):
    """A built file breaks a rule PyPI applies at upload (release.pypi_rules): caught
    before a byte is sent."""


class IndexUnavailable(ReleaseError):
    """The index could not be read or its answer did not parse: nothing is uploaded."""

    exit_code = ExitCode.INDEX_UNAVAILABLE


class UploadRejected(ReleaseError):
    """The index answered an upload with a refusal."""

    exit_code = ExitCode.UPLOAD_REJECTED

    def __init__(
        self, message: str, fix: str = "", *, status: int | None = None, reason: str = ""
    ) -> None:
        super().__init__(message, fix)
        self.status = status
        self.reason = reason


class VerificationFailed(ReleaseError):
    """The release on the test index did not install or did not pass its smoke checks."""

    exit_code = ExitCode.VERIFY_FAILED


class CredentialError(ReleaseError):
    """No credential was found, or the one found cannot work for this index."""

    exit_code = ExitCode.CREDENTIALS


class GitFailed(ReleaseError):
    """A git command that ``bump`` runs (commit, tag, push) failed."""

    exit_code = ExitCode.GIT


class NotReproducible(ReleaseError):
    """A clean rebuild of the recorded commit differs from the release (reproduce, or
    ``reproducible = "require"`` before an upload)."""

    exit_code = ExitCode.NOT_REPRODUCIBLE


class CannotReproduce(ReleaseError):
    """reproduce cannot even try: no source commit recorded, the commit is missing, or the
    release was built from a tree with changes not committed."""

    exit_code = ExitCode.USAGE

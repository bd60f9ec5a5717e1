"""Where the credential for an index comes from, in the documented order.

The secret lives only in the :class:`Credential` object and in the environment of a child
process that needs it; never in argv, output, exceptions or files.
"""

from __future__ import annotations

__all__ = ["Credential", "resolve"]

import dataclasses
from collections.abc import Mapping

from .config import IndexSettings
from .errors import CredentialError


@dataclasses.dataclass(frozen=True)
class Credential:
    """A username and secret, and where they came from (``source`` is safe to print)."""

    username: str
    password: str = dataclasses.field(repr=False)
    source: str

    def get(self) -> tuple[str, str]:
        """(username, password) to send now; short-lived tokens are renewed here."""
        return self.username, self.password


def resolve(
    index: IndexSettings, project: str, environ: Mapping[str, str], *, interactive: bool = False
) -> Credential:
    """The first credential source that has something for ``index``."""
    var = f"RELEASE_{index.name.upper()}_PASSWORD"
    secret = environ.get(var)
    if secret:
        return Credential(index.username, secret, var)
    token_var = "TEST_PYPI_API_TOKEN" if index.name == "test" else "PYPI_API_TOKEN"
    secret = environ.get(token_var)
    if secret:
        return Credential("__token__", secret, token_var)
    if environ.get("TWINE_PASSWORD"):
        return Credential(
            environ.get("TWINE_USERNAME", index.username),
            environ["TWINE_PASSWORD"],
            "TWINE_USERNAME/TWINE_PASSWORD",
        )
    raise CredentialError(
        f"No credential found for the {index.name} index ({index.upload_url}).",
        f"Set {var} (or {token_var}) to an API token, or configure trusted publishing.",
    )

"""One atomic file writer: a crash or a full disk never leaves half a file.

The content goes to a temporary file in the same folder, which then replaces the target in one
rename (``os.replace``). A file that existed keeps its permission bits; a new one gets 0o644
(``mkstemp`` would leave 0o600).
"""

from __future__ import annotations

__all__ = ["write_atomic"]

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, content: bytes | str) -> None:
    """Replace ``path`` with ``content`` (``str`` is written as UTF-8, newlines untouched)."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        mode = 0o644
        with contextlib.suppress(FileNotFoundError):
            mode = path.stat().st_mode & 0o7777
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

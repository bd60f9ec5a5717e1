"""nox sessions of this project, with nox-release's release sessions.

`nox -l` lists them; `nox -s rehearse` runs a whole release against two local throw-away indexes.
Importing release.sessions registers its sessions with nox: build, upload_test,
verify_test_install, upload_prod, release, bump_version, doctor, rehearse, reproduce, and lock
(after editing release/requirements*.txt: regenerates the hashed locks the release environment
installs from). `nox -s SESSION` exits with the release command's own status (README).
Add the project's own sessions (tests, lint, ...) below.
"""

import sys
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).parent))  # nox does not add the noxfile's folder
import release.sessions  # noqa: F401  (registers the release sessions with nox)

nox.needs_version = ">=2024.10.9"

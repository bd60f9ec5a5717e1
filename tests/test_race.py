"""Two release jobs for one version: the other job's file lands between our read and our upload.

``upload_files`` is the step after the guard's read, so calling it on an index that already
holds the file is exactly the race. "Already exists" must never be retried blindly: the index is
read again and compared by sha256 (identical: done; different: refused, index unchanged).
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from release.config import IndexSettings
from release.credentials import Credential
from release.distdir import hash_file
from release.errors import GuardRefusal
from release.localindex import LocalIndex
from release.manifest import DistFile
from release.output import Reporter
from release.retry import RetryPolicy
from release.upload import Outcome, upload_files
from tests.devpi import DevpiIndex, twine_upload
from tests.sample_projects import write_wheel

FAST = RetryPolicy(attempts=2, base=0.01, max_wait=0.05)


def entry(path: Path) -> DistFile:
    sha, size = hash_file(path)
    return DistFile(path.name, sha, size, "wheel")


def send(path: Path, upload_url: str, index_url: str, user: str, password: str) -> Outcome:
    index = IndexSettings("test", upload_url, index_url, user)
    results = upload_files(
        [(path, entry(path))],
        index=index,
        credential=Credential(user, password, "test"),
        project=path.name.split("-")[0],
        reporter=Reporter(stream=io.StringIO()),
        policy=FAST,
        timeout=30,
        concurrency=1,
        first_alone=True,
        wait=2,
    )
    return results[0].outcome


def test_pypiserver_identical_file_from_the_other_job_is_already_there(
    local_index: LocalIndex, tmp_path: Path
) -> None:
    ours = write_wheel(tmp_path / "ours", "race-a", "1.0")
    shutil.copy(ours, local_index.root / ours.name)  # the other job's upload, same bytes
    outcome = send(
        ours,
        local_index.upload_url,
        local_index.index_url,
        local_index.username,
        local_index.password,
    )
    assert outcome is Outcome.ALREADY_THERE
    assert local_index.uploads == 1  # one POST, answered "already exists"; no blind retry


def test_pypiserver_other_bytes_from_the_other_job_are_refused(
    local_index: LocalIndex, tmp_path: Path
) -> None:
    ours = write_wheel(tmp_path / "ours", "race-b", "1.0")
    theirs = write_wheel(tmp_path / "theirs", "race-b", "1.0", payload="# another build\n")
    shutil.copy(theirs, local_index.root / theirs.name)
    with pytest.raises(GuardRefusal, match="other bytes"):
        send(
            ours,
            local_index.upload_url,
            local_index.index_url,
            local_index.username,
            local_index.password,
        )
    assert local_index.uploads == 1
    assert (local_index.root / ours.name).read_bytes() == theirs.read_bytes()


@pytest.mark.slow
def test_devpi_identical_and_different_files_from_the_other_job(
    devpi_index: DevpiIndex, tmp_path: Path
) -> None:
    upload_url, index_url, user, password = devpi_index
    ours = write_wheel(tmp_path / "ours", "race-c", "1.0")
    assert twine_upload(upload_url, user, password, ours).status_code == 200  # the other job
    # devpi answers an identical re-upload with 200 on a non-volatile index.
    assert send(ours, upload_url, index_url, user, password) is Outcome.UPLOADED

    theirs = write_wheel(tmp_path / "theirs", "race-d", "1.0", payload="# another build\n")
    assert twine_upload(upload_url, user, password, theirs).status_code == 200
    ours_d = write_wheel(tmp_path / "ours-d", "race-d", "1.0")
    with pytest.raises(GuardRefusal, match="other bytes"):  # devpi: 409, then the re-read
        send(ours_d, upload_url, index_url, user, password)

"""The bytes sent are the bytes hashed (issue 18, section 2).

Against a real pypiserver: a dist/ file swapped after ``check_dist`` (a process the build left
running can do it), swapped while the upload is under way, a symbolic link that points out of
the project, and a manifest whose ``size`` lies. Outcome: what the index stored (or that it got
no upload at all).
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from release.config import IndexSettings
from release.credentials import Credential
from release.distdir import check_dist, hash_file
from release.errors import DistError, ExitCode
from release.localindex import LocalIndex
from release.manifest import DistFile, Manifest, kind_of
from release.output import Reporter
from release.retry import RetryPolicy
from release.upload import Outcome, upload_files
from tests.faultproxy import FaultProxy
from tests.sample_projects import write_sdist, write_wheel

ONCE = RetryPolicy(attempts=1, base=0.0, max_wait=0.0)


def entry(path: Path) -> DistFile:
    sha, size = hash_file(path)
    return DistFile(path.name, sha, size, kind_of(path.name))


def send(
    index: LocalIndex,
    files: list[tuple[Path, DistFile]],
    reporter: Reporter | None = None,
    via: FaultProxy | None = None,
) -> list[Outcome]:
    """``files`` uploaded to ``index`` (through the proxy ``via``, if given)."""
    server = via or index
    results = upload_files(
        files,
        index=IndexSettings("test", server.upload_url, server.index_url, index.username),
        credential=Credential(index.username, index.password, "test"),
        project="swap-demo",
        reporter=reporter or Reporter(stream=io.StringIO()),
        policy=ONCE,
        timeout=30,
        concurrency=1,
        first_alone=True,
        wait=2,
    )
    return [r.outcome for r in results]


def stored_sha256(index: LocalIndex, filename: str) -> str:
    return hash_file(index.root / filename)[0]


def test_file_swapped_after_the_check_is_not_sent(local_index: LocalIndex, tmp_path: Path) -> None:
    built = write_wheel(tmp_path / "dist", "swap-demo", "1.0")
    recorded = entry(built)  # what check_dist saw
    other = write_wheel(tmp_path / "other", "swap-demo", "1.0", payload="import os  # evil\n")
    shutil.copy(other, built)  # swapped in before the upload reopens the path
    with pytest.raises(DistError, match="changed after it was checked") as info:
        send(local_index, [(built, recorded)])
    assert info.value.exit_code == ExitCode.USAGE
    assert local_index.uploads == 0


class _SwapAfterFirst(Reporter):
    """Rewrites ``victim`` with ``other``'s bytes the moment the first file is reported up:
    the swap happens while the upload is under way, after every check."""

    def __init__(self, victim: Path, other: Path) -> None:
        super().__init__(stream=io.StringIO())
        self.victim, self.other, self.swapped = victim, other, False
        self.up: list[str] = []  # the files reported up, in order

    def line(self, text: str = "", mark: str | None = None) -> None:
        super().line(text, mark)
        if mark == "up":
            self.up.append(text.split(":")[0])
        if mark == "up" and not self.swapped:
            shutil.copy(self.other, self.victim)
            self.swapped = True


def test_file_swapped_during_the_upload_sends_the_hashed_bytes(
    local_index: LocalIndex, tmp_path: Path
) -> None:
    dist = tmp_path / "dist"
    first = write_wheel(dist, "swap-demo", "1.0", tag="py3-none-any")
    second = write_wheel(dist, "swap-demo", "1.0", tag="py2.py3-none-any")
    evil = write_wheel(tmp_path / "evil", "swap-demo", "1.0", tag="py2.py3-none-any", payload="#x")
    files = [(first, entry(first)), (second, entry(second))]
    reporter = _SwapAfterFirst(second, evil)
    assert send(local_index, files, reporter) == [Outcome.UPLOADED, Outcome.UPLOADED]
    assert reporter.swapped
    assert hash_file(second)[0] != files[1][1].sha256  # dist/ now holds the other bytes
    assert stored_sha256(local_index, second.name) == files[1][1].sha256  # the index: ours


def test_sdist_goes_last_and_is_copied_before_the_first_wheel_is_sent(
    local_index: LocalIndex, tmp_path: Path
) -> None:
    """Given first, the sdist still goes after the wheel; swapped while the wheel is being
    sent, it is sent as it was hashed: its private copy was made before anything was sent."""
    dist = tmp_path / "dist"
    wheel = write_wheel(dist, "swap-demo", "1.0")
    sdist = write_sdist(dist, "swap-demo", "1.0")
    evil = write_sdist(tmp_path / "evil", "swap-demo", "1.0", payload="import os  # evil\n")
    recorded = (sdist, entry(sdist))
    reporter = _SwapAfterFirst(sdist, evil)
    assert send(local_index, [recorded, (wheel, entry(wheel))], reporter) == [Outcome.UPLOADED] * 2
    assert reporter.swapped  # after the wheel was up, before the sdist was sent
    assert hash_file(sdist)[0] != recorded[1].sha256
    assert stored_sha256(local_index, sdist.name) == recorded[1].sha256
    assert reporter.up == [wheel.name, sdist.name]


class _CountingProxy(FaultProxy):
    """A FaultProxy that counts the connections made to it."""

    connections = 0

    def handler_class(self) -> type[Any]:
        proxy, base = self, super().handler_class()

        class Counting(base):  # type: ignore[misc, valid-type]
            def setup(self) -> None:
                with proxy.lock:
                    proxy.connections += 1
                super().setup()

        return Counting


def test_one_thread_keeps_its_connection_from_the_first_file_to_the_sdist(
    local_index: LocalIndex, tmp_path: Path
) -> None:
    """The first file (alone), the next wheel and the sdist after every wheel all go through
    one pool: with one worker, one connection carries the three (on PyPI: one TLS handshake,
    not three)."""
    dist = tmp_path / "dist"
    first = write_wheel(dist, "swap-demo", "1.0", tag="py3-none-any")
    second = write_wheel(dist, "swap-demo", "1.0", tag="py2.py3-none-any")
    sdist = write_sdist(dist, "swap-demo", "1.0")
    files = [(p, entry(p)) for p in (first, second, sdist)]
    with _CountingProxy(local_index.base_url) as proxy:
        assert send(local_index, files, via=proxy) == [Outcome.UPLOADED] * 3
        assert proxy.uploads() == [first.name, second.name, sdist.name]
        assert proxy.connections == 1


def test_symlink_out_of_the_project_is_not_uploaded(
    local_index: LocalIndex, tmp_path: Path
) -> None:
    """A link in dist/ to a file elsewhere (same bytes, so every sha256 matches) is refused by
    check_dist and by the upload itself."""
    outside = write_wheel(tmp_path / "elsewhere", "swap-demo", "1.0")
    dist = tmp_path / "project" / "dist"
    dist.mkdir(parents=True)
    link = dist / outside.name
    link.symlink_to(outside)
    recorded = entry(outside)
    with pytest.raises(DistError, match="symbolic link"):
        check_dist(dist, Manifest("swap-demo", "1.0", (recorded,)))
    with pytest.raises(DistError, match="symbolic link"):
        send(local_index, [(link, recorded)])
    assert local_index.uploads == 0


def test_manifest_size_is_checked(tmp_path: Path) -> None:
    built = write_wheel(tmp_path, "swap-demo", "1.0")
    sha, size = hash_file(built)
    check_dist(tmp_path, Manifest("swap-demo", "1.0", (DistFile(built.name, sha, size, "wheel"),)))
    lying = DistFile(built.name, sha, size * 100, "wheel")  # verify would allow 100x the bytes
    with pytest.raises(DistError, match="bytes vs"):
        check_dist(tmp_path, Manifest("swap-demo", "1.0", (lying,)))


def test_size_differing_from_the_manifest_is_not_sent(
    local_index: LocalIndex, tmp_path: Path
) -> None:
    built = write_wheel(tmp_path, "swap-demo", "1.0")
    sha, size = hash_file(built)
    with pytest.raises(DistError):
        send(local_index, [(built, DistFile(built.name, sha, size + 1, "wheel"))])
    assert local_index.uploads == 0


def test_smallest_wheel_alone_first_then_the_largest_and_the_sdist_last(
    local_index: LocalIndex, tmp_path: Path
) -> None:
    """A new release: the smallest wheel goes alone (the round nothing runs beside is the
    shortest), the other wheels largest first, the sdist after every wheel, whatever order
    they come in."""
    dist = tmp_path / "dist"
    sizes = {"py3-none-any": 60_000, "py2.py3-none-any": 2_000, "py38-none-any": 20_000}
    wheels = {
        tag: write_wheel(dist, "swap-demo", "1.0", tag=tag, payload=_incompressible(size))
        for tag, size in sizes.items()
    }
    sdist = write_sdist(dist, "swap-demo", "1.0")  # the smallest file of all
    files = [(p, entry(p)) for p in (sdist, *wheels.values())]
    assert entry(sdist).size < min(f[1].size for f in files[1:])
    with FaultProxy(local_index.base_url) as proxy:
        assert send(local_index, files, via=proxy) == [Outcome.UPLOADED] * 4
        assert proxy.uploads() == [
            wheels["py2.py3-none-any"].name,  # smallest, alone
            wheels["py3-none-any"].name,  # then the largest first
            wheels["py38-none-any"].name,
            sdist.name,
        ]


def _incompressible(size: int) -> str:
    """``size`` characters that deflate does not shrink much: hex of random bytes (a comment,
    so the module still imports)."""
    return "# " + os.urandom(size // 2).hex() + "\n"

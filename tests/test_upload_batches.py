"""The order of uploads (release.upload.upload_batches), pure: which files go together, and
which first."""

from __future__ import annotations

from pathlib import Path

from release.manifest import DistFile, kind_of
from release.upload import upload_batches


def _files(*named: tuple[str, int]) -> list[tuple[Path, DistFile]]:
    return [(Path(n), DistFile(n, "0" * 64, size, kind_of(n))) for n, size in named]


def _names(batches: list[list[tuple[Path, DistFile]]]) -> list[list[str]]:
    return [[entry.filename for _path, entry in batch] for batch in batches]


SDIST = ("demo-1.0.tar.gz", 10)  # smaller than every wheel: still last
A = ("demo-1.0-cp311-cp311-win32.whl", 300)
B = ("demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", 900)
C = ("demo-1.0-cp311-cp311-macosx_11_0_arm64.whl", 500)
D = ("demo-1.0-cp312-cp312-win32.whl", 300)


def test_a_new_release_sends_the_smallest_wheel_alone_then_the_largest_first() -> None:
    batches = upload_batches(_files(SDIST, A, B, C), first_alone=True)
    assert _names(batches) == [[A[0]], [B[0], C[0]], [SDIST[0]]]


def test_an_existing_release_sends_every_wheel_together_largest_first() -> None:
    batches = upload_batches(_files(SDIST, A, B, C))
    assert _names(batches) == [[B[0], C[0], A[0]], [SDIST[0]]]


def test_equal_sizes_keep_the_order_given() -> None:
    assert _names(upload_batches(_files(D, A, B), first_alone=True)) == [[D[0]], [B[0], A[0]]]
    assert _names(upload_batches(_files(A, D, B), first_alone=True)) == [[A[0]], [B[0], D[0]]]
    assert _names(upload_batches(_files(A, D))) == [[A[0], D[0]]]


def test_an_sdist_alone_or_a_single_wheel() -> None:
    assert _names(upload_batches(_files(SDIST), first_alone=True)) == [[SDIST[0]]]
    assert _names(upload_batches(_files(SDIST, A), first_alone=True)) == [[A[0]], [SDIST[0]]]
    assert _names(upload_batches([], first_alone=True)) == []

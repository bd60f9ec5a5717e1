"""What the built files say about themselves: name and version from PKG-INFO / METADATA, and
what a wheel installs that can be imported (namespace packages looked into)."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest
from packaging.version import Version

from release.errors import ConfigError, DistError
from release.metadata import built_info, identity_of, resolved_info, same_identity
from release.project import ProjectInfo
from release.verify import import_names_of


def _metadata(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nlong text\n".encode()


def wheel(tmp_path: Path, name: str, version: str, files: tuple[str, ...] = ()) -> Path:
    stem = f"{name.replace('-', '_').replace('.', '_')}-{version}"
    path = tmp_path / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{stem}.dist-info/METADATA", _metadata(name, version))
        for entry in files:
            zf.writestr(entry, "")
    return path


def sdist(tmp_path: Path, name: str, version: str) -> Path:
    stem = f"{name.replace('-', '_').replace('.', '_')}-{version}"
    path = tmp_path / f"{stem}.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        for member, data in ((f"{stem}/PKG-INFO", _metadata(name, version)),):
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def test_name_and_version_come_from_the_metadata(tmp_path: Path) -> None:
    files = [sdist(tmp_path, "Old.Style", "1.0"), wheel(tmp_path, "Old.Style", "1.0")]
    identity = same_identity(files)
    assert (identity.name, identity.version) == ("Old.Style", Version("1.0"))
    # a setup.py project: pyproject.toml names nothing, the metadata does
    assert built_info(files, None) == ProjectInfo("Old.Style", None)
    assert built_info(files, ProjectInfo("old-style", Version("1.0.0"))).name == "old-style"


def test_disagreements_are_refused(tmp_path: Path) -> None:
    files = [sdist(tmp_path, "demo", "1.0"), wheel(tmp_path, "demo", "1.1")]
    with pytest.raises(DistError, match="disagree"):
        same_identity(files)
    files = [sdist(tmp_path, "demo", "2.0"), wheel(tmp_path, "demo", "2.0")]
    with pytest.raises(DistError, match=r"names the project 'demo', pyproject\.toml names 'other'"):
        built_info(files, ProjectInfo("other", None))
    with pytest.raises(DistError, match=r"version 2\.0, pyproject.toml says 2\.1"):
        built_info(files, ProjectInfo("demo", Version("2.1")))


def test_a_file_without_metadata(tmp_path: Path) -> None:
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("demo/__init__.py", "")
    with pytest.raises(DistError, match=r"has no a \.dist-info/METADATA"):
        identity_of(path)


@pytest.mark.parametrize(
    ("files", "names"),
    [
        (("jaraco/functools/__init__.py", "jaraco/functools/__init__.pyi"), ("jaraco.functools",)),
        (("six.py",), ("six",)),
        (
            ("pkg/__init__.py", "pkg/sub.py", "_private.py", "ext.cpython-311-x86_64-linux-gnu.so"),
            ("ext", "pkg"),
        ),
        (("ns/sub/mod.py", "ns/other.py"), ("ns.other", "ns.sub.mod")),
        (("demo-1.0.data/scripts/demo",), ()),  # a script only: nothing to import
        ((), ()),  # metadata only
    ],
)
def test_import_names(tmp_path: Path, files: tuple[str, ...], names: tuple[str, ...]) -> None:
    assert import_names_of(wheel(tmp_path, "demo", "1.0", files)) == names


@pytest.mark.slow
def test_a_setup_py_projects_name_comes_from_its_backend(tmp_path: Path) -> None:
    (tmp_path / "setup.py").write_text(
        "from setuptools import setup\nsetup(name='Legacy.Proj', version='3.0', py_modules=[])\n",
        encoding="utf-8",
    )
    assert resolved_info(tmp_path, {}, tmp_path / "dist") == ProjectInfo("Legacy.Proj", None)
    with pytest.raises(ConfigError, match="no \\[project\\] table"):
        resolved_info(tmp_path / "nowhere", {}, tmp_path / "dist")


def test_a_stale_version_in_the_wheel_is_found(tmp_path: Path) -> None:
    """bump rewrites the package named like the distribution; another import name's
    __version__ goes stale and build says so."""
    from release.distfacts import stale_versions
    from tests.sample_projects import write_wheel

    same = write_wheel(tmp_path / "a", "demo-pkg", "1.0.0")
    assert stale_versions(same, "1.0.0") == []
    assert stale_versions(same, "1.0") == []  # PEP 440: 1.0 is 1.0.0
    stale = write_wheel(tmp_path / "b", "demo-pkg", "1.1.0", payload='__version__ = "1.0.0"\n')
    assert stale_versions(stale, "1.1.0") == [("demo_pkg/__init__.py", "1.0.0")]

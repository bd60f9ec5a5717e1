"""PyPI's upload rules as cases: one row per rule (and per case that matters), with the
distribution files' facts written directly (no build). tests/test_pypi_rules.py checks each row
offline; tests/test_pypi_rules_index.py sends them through a real local index."""

from __future__ import annotations

import dataclasses

from release.pypi_archives import ArchiveFacts
from release.pypi_rules import DistFacts

NAME, VERSION = "demo-pkg", "1.0.0"
SDIST, WHEEL = "demo_pkg-1.0.0.tar.gz", "demo_pkg-1.0.0-py3-none-any.whl"
WHEEL_INFO = "demo_pkg-1.0.0.dist-info"
GOOD_README = "Demo\n====\n\nA *fine* README.\n"


def metadata(
    *,
    version: str = VERSION,
    name: str = NAME,
    metadata_version: str = "2.4",
    content_type: str | None = "text/x-rst",
    description: str | None = GOOD_README,
    extra: tuple[str, ...] = (),
) -> bytes:
    lines = [f"Metadata-Version: {metadata_version}", f"Name: {name}", f"Version: {version}"]
    if content_type is not None:
        lines.append(f"Description-Content-Type: {content_type}")
    lines += extra
    text = "\n".join(lines) + "\n"
    if description is not None:
        text += "\n" + description
    return text.encode()


def sdist(
    filename: str = SDIST, meta: bytes | None = None, *, size: int = 1000, **kw: object
) -> DistFacts:
    top = filename[: -len(".tar.gz")]
    members = frozenset({f"{top}/PKG-INFO", f"{top}/pyproject.toml", f"{top}/LICENSE"})
    members |= frozenset(f"{top}/{m}" for m in kw.pop("more", ()))  # type: ignore[attr-defined]
    return DistFacts(filename, size, meta if meta is not None else metadata(**kw), members)  # type: ignore[arg-type]


def wheel(
    filename: str = WHEEL, meta: bytes | None = None, *, size: int = 1000, **kw: object
) -> DistFacts:
    info = "-".join(filename.split("-")[:2]) + ".dist-info"
    members = frozenset(
        {f"{info}/METADATA", f"{info}/WHEEL", f"{info}/RECORD", f"{info}/licenses/LICENSE"}
    )
    return DistFacts(filename, size, meta if meta is not None else metadata(**kw), members)  # type: ignore[arg-type]


@dataclasses.dataclass(frozen=True)
class Row:
    files: tuple[DistFacts, ...]
    rule: str  # the rule that must fire ("" for none)
    level: str = "error"
    says: str = ""  # in the message or the fix
    size_limit_mb: int = 100


ROWS: dict[str, Row] = {
    "a clean release": Row((sdist(), wheel()), ""),
    "local-version": Row(
        (sdist("demo_pkg-1.0.0+abc.tar.gz", version="1.0.0+abc"),), "local-version", says="+abc"
    ),
    "platform-tag": Row(
        (sdist(), wheel("demo_pkg-1.0.0-cp312-cp312-linux_x86_64.whl")),
        "platform-tag",
        says="auditwheel repair",
    ),
    "sdist-only-compiled": Row(
        (sdist(more=("src/demo/_speed.c",)),), "sdist-only-compiled", "warning", "cibuildwheel"
    ),
    "filename (not normalized)": Row((sdist("Demo.Pkg-1.0.0.tar.gz"),), "filename", says=SDIST),
    "filename (version differs)": Row(
        (wheel("demo_pkg-1.0.1-py3-none-any.whl"),), "filename", says="demo_pkg-1.0.0-<tags>"
    ),
    "filename (zip sdist)": Row((sdist("demo_pkg-1.0.0.zip"),), "filename", says=SDIST),
    "filename-length": Row(
        # 251 bytes: a file system takes it, PyPI does not (it adds ".metadata" to wheels')
        (wheel("demo_pkg-1.0.0-py3-none-any" + ".any" * 55 + ".whl"),),
        "filename-length",
        says="bytes",
    ),
    "file-size": Row((wheel(size=101 * 1024 * 1024),), "file-size", says="file-size-limit"),
    "file-size (a raised limit)": Row((wheel(size=101 * 1024 * 1024),), "", size_limit_mb=200),
    "one-sdist": Row((sdist(), sdist("demo_pkg-1.0.0.zip")), "one-sdist"),
    "metadata-version (2.0)": Row((wheel(metadata_version="2.0"),), "metadata-version"),
    "metadata-version (2.6: packaging knows it, PyPI not yet)": Row(
        (wheel(metadata_version="2.6"),), "metadata-version"
    ),
    "metadata (invalid name)": Row((wheel(name="demo pkg!"),), "metadata", says="name"),
    "metadata (summary too long)": Row(
        (wheel(extra=("Summary: " + "x" * 513,)),), "metadata", says="summary"
    ),
    "metadata (direct dependency)": Row(
        (wheel(extra=("Requires-Dist: other @ https://example.invalid/other.whl",)),),
        "metadata",
        says="direct reference",
    ),
    "metadata (direct reference in Provides-Dist)": Row(
        (wheel(extra=("Provides-Dist: other @ https://example.invalid/other.whl",)),),
        "metadata",
        says="Provides-Dist",
    ),
    "metadata (Dynamic outside PyPI's list)": Row(
        (wheel(extra=("Dynamic: Dynamic",)),), "metadata", says="dynamic"
    ),
    "metadata (home page not an http URL)": Row(
        (wheel(extra=("Home-page: irc://example.invalid/",)),), "metadata", says="Home-page"
    ),
    "metadata (UNKNOWN is absent to PyPI)": Row(
        (wheel(extra=("Home-page: UNKNOWN", "License: UNKNOWN", "License-Expression: MIT")),),
        "",
    ),
    "license-file (below 2.4: twine drops it, PyPI accepts)": Row(
        (wheel(metadata_version="2.1", extra=("License-File: COPYING",)),), ""
    ),
    "archive (wheel without WHEEL)": Row(
        (
            dataclasses.replace(
                wheel(), members=frozenset({f"{WHEEL_INFO}/METADATA", f"{WHEEL_INFO}/RECORD"})
            ),
        ),
        "archive",
        says="WHEEL",
    ),
    "archive (LZMA member)": Row(
        (dataclasses.replace(wheel(), archive=ArchiveFacts(compress_types=frozenset({0, 14}))),),
        "archive",
        says="stored and deflated",
    ),
    "archive (zip bomb)": Row(
        (dataclasses.replace(wheel(), archive=ArchiveFacts(uncompressed_size=65 * 1024 * 1024)),),
        "archive",
        says="zip bomb",
    ),
    "archive (sdist with two top-level folders)": Row(
        (dataclasses.replace(sdist(), members=sdist().members | {"other/file.txt"}),),
        "archive",
        says="one top-level folder",
    ),
    "classifiers (unknown)": Row(
        (wheel(extra=("Classifier: Programming Language :: Snake",)),), "classifiers"
    ),
    "classifiers (deprecated)": Row(
        (wheel(extra=("Classifier: License :: OSI Approved :: Intel Open Source License",)),),
        "classifiers",
        says="deprecated",
    ),
    "private-classifier": Row(
        (wheel(extra=("Classifier: Private :: Do Not Upload",)),),
        "private-classifier",
        says="remove the `Private ::` classifier",
    ),
    "readme": Row(
        (wheel(description="Title\n=====\n\n.. no-such-directive::\n\n`broken <>`_\n"),),
        "readme",
        says="reStructuredText",
    ),
    "readme-warnings (no content type)": Row(
        (wheel(content_type=None),), "readme-warnings", "warning", "long_description_content_type"
    ),
    "readme-warnings (no description)": Row(
        (wheel(description=None),), "readme-warnings", "warning", "no long description"
    ),
    "markdown README needs no rst": Row(
        (wheel(content_type="text/markdown", description="# Title\n\n`broken <>`_\n"),), ""
    ),
    "license": Row(
        (wheel(extra=("License: MIT", "License-Expression: MIT")),), "license", says="SPDX"
    ),
    "license-file (present)": Row(
        (sdist(extra=("License-File: LICENSE",)), wheel(extra=("License-File: LICENSE",))), ""
    ),
    "license-file (missing)": Row(
        (sdist(extra=("License-File: COPYING",)),), "license-file", says="COPYING"
    ),
}

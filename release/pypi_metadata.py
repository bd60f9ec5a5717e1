"""PURE: a built file's core metadata as PyPI reads it, and what PyPI refuses in it.

PyPI does not read the METADATA/PKG-INFO inside the file: it reads the upload form, which
twine fills from that file. Two steps change the metadata on the way, and both are restated
here so the offline rules judge what PyPI will judge:

- twine (``twine/package.py``, ``PackageFile.from_filename``) drops ``License-File`` when
  Metadata-Version is below 2.4 (setuptools writes it under 2.1), and refuses fields
  ``packaging`` cannot parse;
- Warehouse (``forklift/decorators.py``, ``sanitize``) deletes every form field whose value is
  ``UNKNOWN`` (what distutils wrote for a missing value): PyPI treats it as absent.

Then :func:`warehouse_problems` applies Warehouse's own checks beyond ``packaging``
(``forklift/metadata.py``, ``_validate_metadata``, read at pypi/warehouse@6b62157): URLs,
project URLs, direct references in ``Provides-Dist``/``Obsoletes-Dist``/``Requires-Dist``,
``Dynamic`` values outside PyPI's list, the summary's length. Author and maintainer emails are
checked by PyPI with ``email-validator``; that check is left to PyPI (release/docs/pypi-rules.md).
"""

from __future__ import annotations

__all__ = [
    "DYNAMIC_FIELDS",
    "PROJECT_URL_LABEL_MAX",
    "SUMMARY_MAX",
    "as_twine_sends_it",
    "as_warehouse_reads_it",
    "is_valid_url",
    "warehouse_problems",
]

from packaging.metadata import Metadata, RawMetadata
from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version
from rfc3986 import exceptions as uri_errors
from rfc3986 import uri_reference, validators

SUMMARY_MAX = 512
PROJECT_URL_LABEL_MAX = 32
# forklift/metadata.py DYNAMIC_FIELDS: the only values PyPI takes in Dynamic
DYNAMIC_FIELDS = frozenset(
    f.lower()
    for f in (
        "Platform",
        "Supported-Platform",
        "Summary",
        "Description",
        "Description-Content-Type",
        "Keywords",
        "Home-Page",
        "Download-Url",
        "Author",
        "Author-Email",
        "Maintainer",
        "Maintainer-Email",
        "License",
        "License-Expression",
        "License-File",
        "Classifier",
        "Requires-Dist",
        "Requires-Python",
        "Requires-External",
        "Project-Url",
        "Provides-Extra",
        "Provides-Dist",
        "Obsoletes-Dist",
        "Requires",
        "Provides",
        "Obsoletes",
        "Import-Name",
        "Import-Namespace",
    )
)
_UNKNOWN = "UNKNOWN"


def _below_2_4(raw: RawMetadata) -> bool:
    try:
        return Version(raw.get("metadata_version", "0")) < Version("2.4")
    except InvalidVersion:
        return False


def as_twine_sends_it(raw: RawMetadata, unparsed: dict[str, list[str]]) -> RawMetadata:
    """``raw`` (from ``packaging.metadata.parse_email``) as twine sends it: without
    ``License-File`` below Metadata-Version 2.4 (also dropped from ``unparsed``, in place)."""
    sent: dict[str, object] = dict(raw)
    if _below_2_4(raw):
        sent.pop("license_files", None)
        unparsed.pop("license-file", None)
    return sent  # type: ignore[return-value]


def as_warehouse_reads_it(sent: RawMetadata) -> RawMetadata:
    """What twine sent, as Warehouse's form parser gets it: every field whose value is
    ``UNKNOWN`` (a list field: whose last value is, as the form is read) removed."""
    seen: dict[str, object] = dict(sent)
    for key, value in list(seen.items()):
        last = value[-1] if isinstance(value, list) and value else value
        if isinstance(last, str) and last.strip() == _UNKNOWN:
            del seen[key]
    return seen  # type: ignore[return-value]


def is_valid_url(url: str) -> bool:
    """Warehouse's ``utils/http.py`` ``is_valid_uri(url, require_authority=False)``:
    an http(s) URL whose parts are valid (rfc3986, the library Warehouse uses)."""
    validator = (
        validators.Validator()
        .allow_schemes("http", "https")
        .require_presence_of("scheme")
        .check_validity_of("scheme", "host", "port", "path", "query")
    )
    try:
        validator.validate(uri_reference(url).normalize())
    except uri_errors.ValidationError:
        return False
    return True


def _url_problems(meta: Metadata) -> list[str]:
    problems = [
        f"{field} {url!r} is not a valid http(s) URL"
        for field, url in (("Home-page", meta.home_page), ("Download-URL", meta.download_url))
        if url is not None and not is_valid_url(url)
    ]
    for label, url in (meta.project_urls or {}).items():
        if not label:
            problems.append("a Project-URL has no label")
        elif len(label) > PROJECT_URL_LABEL_MAX:
            problems.append(
                f"the project-URL label {label!r} is longer than {PROJECT_URL_LABEL_MAX} characters"
            )
        elif not url:
            problems.append(f"the Project-URL {label!r} has no URL")
        elif not is_valid_url(url):
            problems.append(f"the Project-URL {label!r} is not a valid http(s) URL ({url!r})")
    return problems


def _dist_problems(meta: Metadata) -> list[str]:
    problems = [
        f"the dependency {str(req)!r} is a direct reference (a URL), which PyPI refuses"
        for req in meta.requires_dist or []
        if req.url is not None
    ]
    for field, values in (
        ("Provides-Dist", meta.provides_dist),
        ("Obsoletes-Dist", meta.obsoletes_dist),
    ):
        for raw in values or []:
            try:
                req = Requirement(raw)
            except InvalidRequirement as exc:
                problems.append(f"{field} {raw!r} is not a valid requirement ({exc})")
                continue
            if req.url is not None:
                problems.append(
                    f"{field} {raw!r} is a direct reference (a URL), which PyPI refuses"
                )
    return problems


def warehouse_problems(meta: Metadata) -> list[str]:
    """What Warehouse refuses in ``meta`` beyond ``packaging``'s own validation."""
    problems = []
    if meta.summary is not None and len(meta.summary) > SUMMARY_MAX:
        problems.append(f"the summary is {len(meta.summary)} characters (at most {SUMMARY_MAX})")
    problems += _url_problems(meta)
    problems += _dist_problems(meta)
    problems += [
        f"Dynamic {value!r} is not a field PyPI allows to be dynamic"
        for value in meta.dynamic or []
        if value.lower() not in DYNAMIC_FIELDS
    ]
    return problems

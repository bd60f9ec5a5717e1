"""The upload form we send is the form twine sends, field for field, for a real wheel and sdist.

``release.upload.form_fields`` owns the few lines that flatten the metadata into form fields
(twine's own flattening is private). Both clients post the same built files to a loopback
recorder; the recorded forms must be equal, file part included. The project has every kind of
metadata field the flattening treats differently: lists (classifiers, requirements), keywords,
project URLs, a long description with its content type, a license expression.
"""

from __future__ import annotations

import email.message
import io
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from requests_toolbelt.multipart.decoder import MultipartDecoder
from twine.package import PackageFile
from twine.repository import Repository

from release.config import IndexSettings
from release.credentials import Credential
from release.distdir import hash_file
from release.loopback import LoopbackHandler, LoopbackServer
from release.manifest import DistFile
from release.output import Reporter
from release.retry import RetryPolicy
from release.upload import Outcome, form_fields, upload_files

pytestmark = pytest.mark.slow

Form = list[tuple[str, str | bytes]]

PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "Form.Demo"
version = "2.0.1"
description = "Every kind of metadata field the upload form flattens"
readme = "README.md"
license = {text = "MIT"}
requires-python = ">=3.9"
keywords = ["release", "upload form", "twine"]
authors = [{name = "A. Author", email = "a@example.org"}]
classifiers = [
  "Programming Language :: Python :: 3",
  "Operating System :: OS Independent",
]
dependencies = ["packaging>=24", "requests>=2.32; python_version >= '3.9'"]

[project.optional-dependencies]
cli = ["rich>=13"]

[project.urls]
Homepage = "https://example.org/form-demo"
"Bug Tracker" = "https://example.org/form-demo/issues"
"""


class Recorder(LoopbackServer):
    """Answers 200 to every POST and keeps each request's form fields, in order."""

    def __init__(self) -> None:
        super().__init__(name="form-recorder")
        self.forms: list[Form] = []

    def handler_class(self) -> type[LoopbackHandler]:
        recorder = self

        class Handler(LoopbackHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                recorder.forms.append(parse_form(body, self.headers["Content-Type"]))
                self.send_body(200)

        return Handler

    @property
    def url(self) -> str:
        return f"{self.base_url}/legacy/"


def parse_form(body: bytes, content_type: str) -> Form:
    form: Form = []
    for part in MultipartDecoder(body, content_type).parts:
        header = email.message.Message()
        header["Content-Disposition"] = part.headers[b"Content-Disposition"].decode()
        name = str(header.get_param("name", header="Content-Disposition"))
        filename = header.get_param("filename", header="Content-Disposition")
        if filename is None:
            form.append((name, part.content.decode()))
        else:  # the file part: its name and bytes
            form.append((name, str(filename)))
            form.append((f"{name}:bytes", part.content))
    return form


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    with Recorder() as server:
        yield server


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A real wheel and sdist, built by setuptools through ``build``."""
    root = tmp_path_factory.mktemp("form") / "project"
    (root / "src" / "form_demo").mkdir(parents=True)
    (root / "src" / "form_demo" / "__init__.py").write_text('__version__ = "2.0.1"\n')
    (root / "README.md").write_text(
        textwrap.dedent(
            """\
            # Form.Demo

            A sample whose description has *Markdown*, non-ASCII (é, ü, 日本) and
            several lines.
            """
        ),
        encoding="utf-8",
    )
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--no-isolation",
            "--outdir",
            str(root / "dist"),
            str(root),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    built = sorted((root / "dist").iterdir(), key=lambda p: p.suffix)  # sdist, wheel
    assert [p.suffix for p in built] == [".gz", ".whl"]
    return built


def twines_form(recorder: Recorder, path: Path) -> Form:
    repository = Repository(recorder.url, "__token__", "pypi-fake", disable_progress_bar=True)
    try:
        response = repository.upload(PackageFile.from_filename(str(path), None))
    finally:
        repository.close()
    assert response.status_code == 200
    return recorder.forms.pop()


def our_form(recorder: Recorder, path: Path) -> Form:
    sha256, size = hash_file(path)
    results = upload_files(
        [(path, DistFile(path.name, sha256, size, "wheel" if path.suffix == ".whl" else "sdist"))],
        index=IndexSettings("test", recorder.url, recorder.url, "__token__"),
        credential=Credential("__token__", "pypi-fake", "test"),
        project="form-demo",
        reporter=Reporter(stream=io.StringIO()),
        policy=RetryPolicy(attempts=1, base=0.01, max_wait=0.01),
        timeout=30,
        concurrency=1,
        first_alone=True,
        wait=1,
    )
    assert [r.outcome for r in results] == [Outcome.UPLOADED]
    return recorder.forms.pop()


def test_our_form_is_twines_form(recorder: Recorder, dists: list[Path]) -> None:
    for path in dists:
        theirs = twines_form(recorder, path)
        ours = our_form(recorder, path)
        assert ours == theirs, path.name
        names = {name for name, _ in ours}
        # The form really carries the fields whose flattening differs (the test can fail).
        assert {"keywords", "project_urls", "classifiers", "requires_dist", "description"} <= names
        assert sum(name == "project_urls" for name, _ in ours) == 2
        assert ("keywords", "release, upload form, twine") in ours


def test_extra_fields_go_after_the_metadata_and_before_the_action(dists: list[Path]) -> None:
    fields = form_fields(dists[1], [("attestations", "[]")])
    assert fields[-3:] == [
        ("attestations", "[]"),
        (":action", "file_upload"),
        ("protocol_version", "1"),
    ]
    assert fields[:-3] == form_fields(dists[1])[:-2]

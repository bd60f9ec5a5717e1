"""Provenance after publishing: real provenance recorded from PyPI (tests/data/), served by a
loopback double of the integrity API, verified offline with pypi-attestations and sigstore
against the trust root sigstore ships; tampered, foreign and missing provenance fail."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from release import provenance
from release.claims import Publisher
from release.commands import checks, context
from release.config import IndexSettings, load_settings
from release.errors import ConfigError, ExitCode, VerificationFailed
from release.loopback import LoopbackHandler, LoopbackServer
from release.manifest import DistFile, Manifest
from release.output import Reporter
from tests.attestation_data import (
    FILENAME,
    PROJECT,
    REPOSITORY,
    SHA256,
    VERSION,
    WORKFLOW,
    statement_for,
)
from tests.attestation_data import (
    provenance as recorded,
)

ENTRY = DistFile(FILENAME, SHA256, 29882, "sdist")
PATH = f"/integrity/{PROJECT}/{VERSION}/{FILENAME}/provenance"


class IntegrityDouble(LoopbackServer):
    """PyPI's integrity API for one file: ``served`` (bytes, or None for 404) at PATH."""

    def __init__(self) -> None:
        super().__init__(name="integrity")
        self.served: bytes | None = json.dumps(recorded()).encode()
        self.accepts: list[str] = []

    def handler_class(self) -> Any:
        double = self

        class Handler(LoopbackHandler):
            def do_GET(self) -> None:
                double.accepts.append(self.headers.get("Accept", ""))
                if self.path != PATH or double.served is None:
                    self.send_body(404, b'{"message": "Not Found"}', "application/json")
                    return
                self.send_body(200, double.served, provenance.ACCEPT)

        return Handler


@pytest.fixture
def double() -> Iterator[IntegrityDouble]:
    with IntegrityDouble() as d:
        yield d


def _index(double: IntegrityDouble) -> IndexSettings:
    return IndexSettings("prod", double.base_url + "/legacy/", double.base_url + "/simple/", "x")


def _check(double: IntegrityDouble, expected: Publisher | None = None) -> provenance.Result:
    (result,) = provenance.check_files(
        _index(double), PROJECT, VERSION, [ENTRY], expected, timeout=10, offline=True
    )
    return result


def _tampered(change: Any) -> bytes:
    data = recorded()
    change(data["attestation_bundles"][0])
    return json.dumps(data).encode()


# ---------------------------------------------------------------- pure parts


def test_integrity_urls() -> None:
    pypi = IndexSettings("prod", "https://upload.pypi.org/legacy/", "https://pypi.org/simple/", "")
    test = IndexSettings(
        "test", "https://test.pypi.org/legacy/", "https://test.pypi.org/simple/", ""
    )
    local = IndexSettings("test", "http://127.0.0.1:8/", "http://127.0.0.1:8/root/simple/", "")
    assert provenance.integrity_base(pypi) == "https://pypi.org"
    assert provenance.integrity_base(test) == "https://test.pypi.org"
    assert provenance.integrity_base(local) == "http://127.0.0.1:8/root"
    assert provenance.integrity_url(
        "https://pypi.org", "Demo_Pkg", "1.0", "demo_pkg-1.0.tar.gz"
    ) == ("https://pypi.org/integrity/demo-pkg/1.0/demo_pkg-1.0.tar.gz/provenance")


@pytest.mark.parametrize(
    ("option", "warehouse", "in_ci", "mode"),
    [
        ("auto", True, True, "warn"),
        ("auto", True, False, "skip"),
        ("auto", False, True, "skip"),
        ("require", False, False, "require"),
        ("off", True, True, "skip"),
    ],
)
def test_mode(option: str, warehouse: bool, in_ci: bool, mode: str) -> None:
    url = "https://pypi.org/simple/" if warehouse else "http://127.0.0.1:8/simple/"
    index = IndexSettings("prod", url, url, "")
    assert provenance.mode_for(option, index, in_ci) == mode


def test_mode_refuses_a_typo() -> None:
    index = IndexSettings("prod", "https://pypi.org/simple/", "https://pypi.org/simple/", "")
    with pytest.raises(ConfigError, match="not one of auto, require, off"):
        provenance.mode_for("on", index, True)


# ---------------------------------------------------------------- against the double


def test_real_provenance_verifies_offline(double: IntegrityDouble) -> None:
    result = _check(double, Publisher(REPOSITORY, WORKFLOW))
    assert result.status == "ok", result.detail
    assert result.publisher == f"GitHub {REPOSITORY} {WORKFLOW}"
    assert double.accepts == [provenance.ACCEPT]


def test_without_an_expected_publisher_it_names_the_one_it_found(double: IntegrityDouble) -> None:
    result = _check(double)
    assert result.status == "ok"
    assert REPOSITORY in result.detail


def test_foreign_publisher(double: IntegrityDouble) -> None:
    result = _check(double, Publisher("example/demo", "release.yml"))
    assert result.status == "foreign"
    assert f"repository '{REPOSITORY}', expected 'example/demo'" in result.detail
    assert "trusted publishers" in result.fix


def test_provenance_claiming_another_publisher_fails_verification(double: IntegrityDouble) -> None:
    """A provenance whose bundle names another repository than its certificate does."""

    def relabel(bundle: dict[str, Any]) -> None:
        bundle["publisher"]["repository"] = "example/demo"

    double.served = _tampered(relabel)
    result = _check(double, Publisher("example/demo", WORKFLOW))
    assert result.status == "invalid"
    assert "does not match" in result.detail


@pytest.mark.parametrize("part", ["statement", "signature"])
def test_tampered_provenance_fails(double: IntegrityDouble, part: str) -> None:
    def tamper(bundle: dict[str, Any]) -> None:
        envelope = bundle["attestations"][0]["envelope"]
        if part == "statement":  # the same file, another digest: the signature no longer covers it
            envelope["statement"] = statement_for(FILENAME, "0" * 64)
        else:
            signature = bytearray(base64.b64decode(envelope["signature"]))
            signature[-1] ^= 1
            envelope["signature"] = base64.b64encode(bytes(signature)).decode()

    double.served = _tampered(tamper)
    assert _check(double).status == "invalid"


def test_other_bytes_than_attested_fail(double: IntegrityDouble) -> None:
    other = DistFile(FILENAME, "f" * 64, 1, "sdist")
    (result,) = provenance.check_files(
        _index(double), PROJECT, VERSION, [other], None, timeout=10, offline=True
    )
    assert result.status == "invalid"
    assert "digest" in result.detail


def test_missing_provenance(double: IntegrityDouble) -> None:
    double.served = None
    result = _check(double)
    assert result.status == "missing"
    assert "Upload with attestations" in result.fix


# ---------------------------------------------------------------- in the pipeline's step


def _ctx(tmp_path: Any, double: IntegrityDouble, check: str) -> context.Context:
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "{PROJECT}"\nversion = "{VERSION}"\n[tool.release]\n'
        f'provenance-check = "{check}"\n'
        f'trusted-publisher = ["repository={REPOSITORY}", "workflow={WORKFLOW}"]\n',
        encoding="utf-8",
    )
    env = {
        "RELEASE_PROD_UPLOAD_URL": double.base_url + "/legacy/",
        "RELEASE_PROD_INDEX_URL": double.base_url + "/simple/",
    }
    return context.Context(
        settings=load_settings(tmp_path, env),
        environ=env,
        reporter=Reporter(stream=io.StringIO()),
    )


def test_step_accepts_the_real_provenance_and_refuses_a_missing_one(
    tmp_path: Any, double: IntegrityDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_check = provenance.check_files

    def offline(*args: Any, **kw: Any) -> list[provenance.Result]:
        return real_check(*args, **(kw | {"offline": True}))

    monkeypatch.setattr(provenance, "check_files", offline)  # no TUF refresh in tests
    manifest = Manifest(PROJECT, VERSION, (ENTRY,))
    ctx = _ctx(tmp_path, double, "require")
    index = ctx.settings.index("prod")
    checks.check_provenance(ctx, index, manifest)
    document = ctx.reporter.document["provenance"]["prod"]
    assert document[FILENAME]["status"] == "ok"
    double.served = None
    with pytest.raises(VerificationFailed, match="provenance missing") as info:
        checks.check_provenance(ctx, index, manifest)
    assert info.value.exit_code is ExitCode.VERIFY_FAILED
    # auto outside CI on a non-PyPI index: not checked at all.
    checks.check_provenance(_ctx(tmp_path, double, "auto"), index, manifest)


def test_without_trusted_publisher_the_ci_identity_is_expected(
    tmp_path: Any, double: IntegrityDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In CI the job's own identity says who should have published: here example/demo's
    workflow, while the recorded provenance names trailofbits/pypi-attestations."""
    from tests.oidc_double import OIDCDouble

    real_check = provenance.check_files

    def offline(*args: Any, **kw: Any) -> list[provenance.Result]:
        return real_check(*args, **(kw | {"offline": True}))

    monkeypatch.setattr(provenance, "check_files", offline)
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "{PROJECT}"\nversion = "{VERSION}"\n', encoding="utf-8"
    )
    with OIDCDouble() as oidc:
        env = oidc.github_environ() | {
            "RELEASE_PROD_UPLOAD_URL": double.base_url + "/legacy/",
            "RELEASE_PROD_INDEX_URL": double.base_url + "/simple/",
            "RELEASE_PROD_TRUSTED_PUBLISHING_URL": oidc.base_url,
            "RELEASE_PROVENANCE_CHECK": "require",
        }
        ctx = context.Context(
            settings=load_settings(tmp_path, env),
            environ=env,
            reporter=Reporter(stream=io.StringIO()),
        )
        with pytest.raises(VerificationFailed, match="provenance foreign") as info:
            checks.check_provenance(
                ctx, ctx.settings.index("prod"), Manifest(PROJECT, VERSION, (ENTRY,))
            )
        assert oidc.mints == 0  # the identity was only read, nothing minted
    assert f"repository '{REPOSITORY}', expected 'example/demo'" in str(info.value)


def test_trust_root_is_refreshed_once_per_check(
    double: IntegrityDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Online, the first verification refreshes sigstore's trust root over TUF; the files after
    a verified one reuse it (offline), instead of one refresh per file."""
    seen: list[bool] = []

    def record(data: bytes | None, entry: DistFile, _expected: Any, *, offline: bool) -> Any:
        seen.append(offline)
        status = "ok" if data is not None else "missing"
        return provenance.Result(entry.filename, status, "")  # type: ignore[arg-type]

    monkeypatch.setattr(provenance, "check_file", record)
    other = DistFile("pypi_attestations-0.0.19-py3-none-any.whl", "c" * 64, 1, "wheel")
    provenance.check_files(
        _index(double), PROJECT, VERSION, [other, ENTRY, other], None, timeout=10
    )
    assert seen == [False, False, True]  # missing (nothing verified), verified, then cached

"""Credential sources, in the documented order, with a real keyring backend and real files."""

from __future__ import annotations

import getpass
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import keyring.credentials
import pytest
from keyring.errors import KeyringError

from release import endpoints
from release.config import IndexSettings
from release.credentials import Credential, resolve
from release.errors import ConfigError, CredentialError, ExitCode
from tests.oidc_double import make_macaroon_token

TEST = IndexSettings(
    "test", "http://127.0.0.1:9/test-upload/", "http://127.0.0.1:9/s/", "__token__"
)
PROD = IndexSettings(
    "prod", "http://127.0.0.1:9/prod-upload/", "http://127.0.0.1:9/p/", "__token__"
)
PYPI = IndexSettings("prod", endpoints.PROD_UPLOAD_URL, endpoints.PROD_INDEX_URL, "__token__")
TESTPYPI = IndexSettings("test", endpoints.TEST_UPLOAD_URL, endpoints.TEST_INDEX_URL, "__token__")


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A real keyring backend that keeps passwords in a dict (registered with set_keyring)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.store: dict[tuple[str, str], str] = {}
        self.asked: list[tuple[str, str | None]] = []

    def get_password(self, service: str, username: str) -> str | None:
        self.asked.append((service, username))
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.store[(service, username)]

    def get_credential(
        self, service: str, username: str | None
    ) -> keyring.credentials.Credential | None:
        self.asked.append((service, username))
        for (svc, user), password in self.store.items():
            if svc == service and (username is None or user == username):
                return keyring.credentials.SimpleCredential(user, password)
        return None


class BrokenKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:  # noqa: ARG002 (keyring's)
        raise KeyringError("the keyring is locked")


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Every test gets its own, empty, real keyring backend (never the machine's)."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def base_env(home: Path) -> dict[str, str]:
    """Nothing set but HOME (an empty one): no CI, no credential anywhere."""
    return {"HOME": str(home)}


def write_pypirc(home: Path, text: str) -> None:
    (home / ".pypirc").write_text(text, encoding="utf-8")


def test_release_password_first_with_release_username(base_env: dict[str, str]) -> None:
    index = IndexSettings("test", TEST.upload_url, TEST.index_url, "alice")
    env = base_env | {
        "RELEASE_TEST_PASSWORD": "s-release",
        "TEST_PYPI_API_TOKEN": "s-token",
        "TWINE_PASSWORD": "s-twine",
    }
    credential = resolve(index, "demo-pkg", env)
    assert (credential.get(), credential.source) == (
        ("alice", "s-release"),
        "RELEASE_TEST_PASSWORD",
    )


def test_each_index_has_its_own_variables(base_env: dict[str, str]) -> None:
    env = base_env | {"TEST_PYPI_API_TOKEN": "s-test", "PYPI_API_TOKEN": "s-prod"}
    assert resolve(TEST, "demo", env).get() == ("__token__", "s-test")
    assert resolve(PROD, "demo", env).get() == ("__token__", "s-prod")
    assert resolve(PROD, "demo", env).source == "PYPI_API_TOKEN"


def full_environment(home: Path, backend: MemoryKeyring) -> dict[str, str]:
    backend.set_password(TEST.upload_url, "__token__", "s-keyring")
    write_pypirc(
        home,
        f"[distutils]\nindex-servers = testpypi\n\n[demo-pkg]\nrepository = {TEST.upload_url}\n"
        "username = __token__\npassword = s-pypirc\n",
    )
    return {
        "HOME": str(home),
        "RELEASE_TEST_PASSWORD": "s-release",
        "TEST_PYPI_API_TOKEN": "s-token",
        "TWINE_USERNAME": "__token__",
        "TWINE_PASSWORD": "s-twine",
    }


ORDER = [
    ("RELEASE_TEST_PASSWORD", "s-release"),
    ("TEST_PYPI_API_TOKEN", "s-token"),
    ("TWINE_USERNAME/TWINE_PASSWORD", "s-twine"),
    (f"keyring ({TEST.upload_url})", "s-keyring"),
    ("[demo-pkg]", "s-pypirc"),
]


@pytest.mark.parametrize("removed", range(len(ORDER)))
def test_documented_order(home: Path, memory_keyring: MemoryKeyring, removed: int) -> None:
    """With every source set, the first wins; remove the winners one by one."""
    env = full_environment(home, memory_keyring)
    for source, _ in ORDER[:removed]:
        if source.startswith("RELEASE") or source.startswith("TEST_PYPI"):
            env.pop(source)
        elif source.startswith("TWINE"):
            env.pop("TWINE_PASSWORD")
        elif source.startswith("keyring"):
            memory_keyring.store.clear()
    credential = resolve(TEST, "demo-pkg", env)
    expected_source, expected_secret = ORDER[removed]
    assert expected_source in credential.source
    assert credential.password == expected_secret


def test_repr_and_source_never_show_the_secret(base_env: dict[str, str]) -> None:
    credential = resolve(TEST, "demo", base_env | {"RELEASE_TEST_PASSWORD": "s3cr3t-value"})
    assert "s3cr3t-value" not in repr(credential)
    assert "s3cr3t-value" not in credential.source


def test_empty_variable_is_reported_as_empty(base_env: dict[str, str]) -> None:
    with pytest.raises(CredentialError) as info:
        resolve(PROD, "demo", base_env | {"PYPI_API_TOKEN": ""})
    assert "PYPI_API_TOKEN: set but empty" in info.value.message


def test_twine_repository_url_for_another_index_is_skipped(base_env: dict[str, str]) -> None:
    env = base_env | {"TWINE_PASSWORD": "s-twine", "TWINE_REPOSITORY_URL": PROD.upload_url}
    assert resolve(PROD, "demo", env).password == "s-twine"
    with pytest.raises(CredentialError) as info:
        resolve(TEST, "demo", env)
    assert "TWINE_REPOSITORY_URL names another index" in info.value.message


def test_twine_username_is_used(base_env: dict[str, str]) -> None:
    env = base_env | {"TWINE_USERNAME": "bob", "TWINE_PASSWORD": "pw"}
    assert resolve(TEST, "demo", env).get() == ("bob", "pw")


def test_keyring_service_is_the_upload_url(
    base_env: dict[str, str], memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.set_password(PROD.upload_url, "__token__", "s-kr")
    credential = resolve(PROD, "demo", base_env)
    assert credential.get() == ("__token__", "s-kr")
    assert (PROD.upload_url, "__token__") in memory_keyring.asked
    with pytest.raises(CredentialError):  # stored for prod's URL, not test's
        resolve(TEST, "demo", base_env)


def test_keyring_username_found_through_get_credential(
    base_env: dict[str, str], memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.set_password(TEST.upload_url, "carol", "s-carol")
    assert resolve(TEST, "demo", base_env).get() == ("carol", "s-carol")


def test_broken_keyring_is_skipped_and_reported(home: Path, base_env: dict[str, str]) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(BrokenKeyring())
    try:
        with pytest.raises(CredentialError) as info:
            resolve(TEST, "demo", base_env)
        assert "keyring: unavailable (KeyringError)" in info.value.message
        write_pypirc(home, f"[demo]\nrepository = {TEST.upload_url}\npassword = s-rc\n")
        assert resolve(TEST, "demo", base_env).password == "s-rc"  # the next source still works
    finally:
        keyring.set_keyring(previous)


# ---------------------------------------------------------------- .pypirc


def test_pypirc_project_section_before_testpypi(home: Path, base_env: dict[str, str]) -> None:
    write_pypirc(
        home,
        f"[testpypi]\nrepository = {TEST.upload_url}\npassword = s-generic\n\n"
        f"[Demo_Pkg]\nrepository = {TEST.upload_url}\nusername = __token__\npassword = s-project\n",
    )
    credential = resolve(TEST, "demo-pkg", base_env)
    assert credential.password == "s-project"
    assert credential.source == f"{home / '.pypirc'} [Demo_Pkg]"
    # another project falls back to [testpypi]
    assert resolve(TEST, "other", base_env).password == "s-generic"


def test_pypirc_section_for_another_index_is_skipped(home: Path, base_env: dict[str, str]) -> None:
    write_pypirc(home, f"[demo]\nrepository = {PROD.upload_url}\npassword = s-prod\n")
    assert resolve(PROD, "demo", base_env).password == "s-prod"
    with pytest.raises(CredentialError) as info:
        resolve(TEST, "demo", base_env)
    assert f"[demo] is for {PROD.upload_url}" in info.value.message


def test_pypirc_any_section_whose_repository_names_the_index(
    home: Path, base_env: dict[str, str]
) -> None:
    """release/docs/credentials.md's example: [my-pkg] for PyPI, [my-pkg-test] named by its
    repository line for the test index."""
    write_pypirc(
        home,
        f"[demo]\nrepository = {PROD.upload_url}\npassword = s-prod\n\n"
        f"[demo-test]\nrepository = {TEST.upload_url}\npassword = s-test\n",
    )
    assert resolve(PROD, "demo", base_env).password == "s-prod"
    credential = resolve(TEST, "demo", base_env)
    assert credential.password == "s-test"
    assert credential.source.endswith("[demo-test]")


def test_the_pypirc_hint_is_ini_a_person_can_paste(home: Path, base_env: dict[str, str]) -> None:
    with pytest.raises(CredentialError) as info:
        resolve(TEST, "demo", base_env)
    assert (
        f"  - add to {home / '.pypirc'}:\n      [demo]\n      repository = {TEST.upload_url}\n"
        "      username = __token__\n      password = <token>"
    ) in info.value.fix


def test_pypirc_default_sections_mean_pypi_and_testpypi(
    home: Path, base_env: dict[str, str]
) -> None:
    write_pypirc(home, "[pypi]\npassword = s-pypi\n\n[testpypi]\npassword = s-testpypi\n")
    assert resolve(PYPI, "demo", base_env).password == "s-pypi"
    assert resolve(TESTPYPI, "demo", base_env).password == "s-testpypi"
    with pytest.raises(CredentialError):  # a private index is neither
        resolve(TEST, "demo", base_env)


def test_pypirc_project_section_without_repository_follows_the_token(
    home: Path, base_env: dict[str, str]
) -> None:
    pypi_token = make_macaroon_token(endpoints.PYPI_HOST, [[3, "user-id"]])
    write_pypirc(home, f"[demo]\nusername = __token__\npassword = {pypi_token}\n")
    assert resolve(PYPI, "demo", base_env).password == pypi_token
    with pytest.raises(CredentialError) as info:
        resolve(TESTPYPI, "demo", base_env)
    assert pypi_token not in str(info.value)


def test_pypirc_that_does_not_parse_never_shows_its_lines(
    home: Path, base_env: dict[str, str]
) -> None:
    write_pypirc(home, "[demo]\npassword = s-fine\nthis line holds pypi-SECRETSECRET\n")
    with pytest.raises(CredentialError) as info:
        resolve(TEST, "demo", base_env)
    assert "does not parse" in info.value.message
    assert "SECRETSECRET" not in str(info.value)


# ---------------------------------------------------------------- nothing found, prompting


def test_no_credential_lists_every_source_and_how(base_env: dict[str, str]) -> None:
    with pytest.raises(CredentialError) as info:
        resolve(TEST, "demo", base_env)
    error = info.value
    assert error.exit_code is ExitCode.CREDENTIALS
    for source in (
        "RELEASE_TEST_PASSWORD",
        "TEST_PYPI_API_TOKEN",
        "TWINE_USERNAME/TWINE_PASSWORD",
        "keyring",
        ".pypirc",
        "trusted publishing",
    ):
        assert source in error.message
    assert "export RELEASE_TEST_PASSWORD=<token>" in error.fix
    assert f"keyring set {TEST.upload_url} __token__" in error.fix
    assert "id-token: write" in error.fix


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_prompts_only_on_a_terminal_outside_ci(
    base_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def fake_getpass(prompt: str = "", stream: Any = None) -> str:  # noqa: ARG001 (getpass's)
        asked.append(prompt)
        return "typed-secret"

    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    # not a terminal: never asks
    monkeypatch.setattr(sys, "stdin", io.StringIO())
    with pytest.raises(CredentialError):
        resolve(TEST, "demo", base_env, interactive=True)
    # a terminal, but CI: never asks
    monkeypatch.setattr(sys, "stdin", _Terminal())
    with pytest.raises(CredentialError):
        resolve(
            TEST,
            "demo",
            base_env | {"CI": "true", "RELEASE_TRUSTED_PUBLISHING": "off"},
            interactive=True,
        )
    # a terminal, not interactive: never asks
    with pytest.raises(CredentialError):
        resolve(TEST, "demo", base_env)
    assert asked == []
    credential = resolve(TEST, "demo", base_env, interactive=True)
    assert credential.get() == ("__token__", "typed-secret")
    assert credential.source == "typed at the prompt"
    assert TEST.upload_url in asked[0]


def test_trusted_publishing_off_is_listed(base_env: dict[str, str]) -> None:
    with pytest.raises(CredentialError) as info:
        resolve(TEST, "demo", base_env | {"CI": "1"}, options={"trusted-publishing": "off"})
    assert "trusted publishing: turned off" in info.value.message


def test_bad_trusted_publishing_value(base_env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="auto, off, force"):
        resolve(TEST, "demo", base_env | {"RELEASE_TRUSTED_PUBLISHING": "sometimes"})


def test_credential_shape() -> None:
    credential = Credential("u", "p", "src")
    assert credential.get() == ("u", "p")
    assert "p'" not in repr(credential)

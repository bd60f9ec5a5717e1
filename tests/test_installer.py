"""release.installer: the pinned uv, and pip's index settings said in uv's words."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from release.installer import find_uv, parse_pip_config, uv_args_from_pip_settings, uv_index_args


def test_the_pinned_uv_runs_here() -> None:
    uv = find_uv()
    assert uv is not None
    out = subprocess.run([uv, "--version"], capture_output=True, text=True, check=True).stdout
    assert out.startswith("uv ")


def test_pip_config_list_is_read_with_pips_precedence() -> None:
    listing = (
        "global.index-url='https://global.example/simple'\n"
        "install.index-url='https://install.example/simple'\n"
        ":env:.index-url='https://env.example/simple'\n"
        "global.extra-index-url='https://a.example/simple https://b.example/simple'\n"
        "global.timeout='60'\n"
        "download.index-url='https://download.example/simple'\n"
    )
    settings = parse_pip_config(listing)
    assert settings is not None
    assert settings["index-url"] == "https://env.example/simple"  # PIP_INDEX_URL wins
    args, env = uv_args_from_pip_settings(settings) or ([], {})
    assert args == [
        "--index-url",
        "https://env.example/simple",
        "--extra-index-url",
        "https://a.example/simple",
        "--extra-index-url",
        "https://b.example/simple",
        # pip takes the best version across all of them: so does uv, told so
        "--index-strategy",
        "unsafe-best-match",
    ]
    assert env == {}


def test_one_index_is_first_index_and_certificates_go_to_uv() -> None:
    got = uv_args_from_pip_settings({"index-url": "https://mirror/simple", "cert": "/ca.pem"})
    assert got == (
        ["--index-url", "https://mirror/simple", "--index-strategy", "first-index"],
        {"SSL_CERT_FILE": "/ca.pem"},
    )


@pytest.mark.parametrize("setting", ["proxy", "client-cert", "keyring-provider", "pre", "index"])
def test_a_setting_uv_cannot_say_the_same_way_leaves_it_to_pip(setting: str) -> None:
    assert uv_args_from_pip_settings({setting: "x"}) is None


@pytest.mark.parametrize("listing", ["no equals sign", "global.index-url=not python"])
def test_unreadable_pip_output_leaves_it_to_pip(listing: str) -> None:
    assert parse_pip_config(listing) is None


def test_pips_own_reading_of_a_config_file_and_its_variables(tmp_path: Path) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nindex-url = https://mirror.example/simple\n[install]\nno-index=0\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env |= {"PIP_CONFIG_FILE": str(conf), "PIP_FIND_LINKS": str(tmp_path)}
    got = uv_index_args(sys.executable, env)
    assert got is not None
    args, _env = got
    assert args[:2] == ["--index-url", "https://mirror.example/simple"]
    assert args[args.index("--find-links") + 1] == str(tmp_path)
    assert args[-2:] == ["--index-strategy", "unsafe-best-match"]

"""verify's advice matches the cause (issue 19 §3): only a real packaging fault says "fix the
package and release the next version". The installer outputs are pip's and uv's own words,
recorded from real runs against an empty local index."""

from __future__ import annotations

from pathlib import Path

import pytest

from release.commands import build as build_command
from release.commands import upload as upload_command
from release.commands import verify as verify_command
from release.commands.context import Context
from release.errors import ExitCode, VerificationFailed
from release.verifyadvice import (
    ImportFailure,
    Source,
    extra_only,
    import_verdict,
    install_verdict,
    not_found,
    smoke_verdict,
)
from tests.conftest import IndexPair, ProjectFactory
from tests.pipeline import environ_for, make_ctx, text

UV_DEP = """\
error: No solution found when resolving dependencies
  cause: Because no-such-dep-xyz was not found in the package registry and demo==1.0 depends \
on no-such-dep-xyz>=2, we can conclude that demo==1.0 cannot be used.
         And because only demo==1.0 is available and you require demo, we can conclude that \
your requirements are unsatisfiable.
"""
UV_BUILD = """\
   Building demo @ file:///tmp/adv/demo-1.0.tar.gz
error: Failed to build `demo @ file:///tmp/adv/demo-1.0.tar.gz`
  cause: Failed to resolve requirements from `build-system.requires`
  cause: No solution found when resolving: `setuptools`, `no-such-backend-xyz>=1`
  cause: Because no-such-backend-xyz was not found in the package registry and you require \
no-such-backend-xyz>=1, we can conclude that your requirements are unsatisfiable.
"""
UV_VERSION = """\
  cause: Because only dep-lib<2.0 is available and demo==1.0 depends on dep-lib>=2.0, we can \
conclude that demo==1.0 cannot be used.
"""
PIP_BUILD = """\
  \u00d7 installing build dependencies did not run successfully.
  │ exit code: 1
  ╰─> [4 lines of output]
      Looking in indexes: http://127.0.0.1:8765/simple/
      ERROR: Could not find a version that satisfies the requirement setuptools \
(from versions: none)
      ERROR: No matching distribution found for setuptools
      [end of output]
ERROR: Failed to build 'file:///tmp/adv/demo-1.0.tar.gz' when installing build dependencies
"""
PIP_DEP = """\
ERROR: Could not find a version that satisfies the requirement dep-lib>=2 (from versions: 1.0)
ERROR: No matching distribution found for dep-lib>=2
"""
PIP_UNREACHABLE = """\
WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after \
connection broken by 'NewConnectionError("HTTPConnection(host='127.0.0.1', port=8799): Failed \
to establish a new connection: [Errno 111] Connection refused")': /simple/no-such-dep/
ERROR: Could not find a version that satisfies the requirement no-such-dep (from versions: none)
ERROR: No matching distribution found for no-such-dep
"""
UV_UNREACHABLE = """\
  cause: Failed to resolve requirements from `build-system.requires`
  cause: No solution found when resolving: `setuptools`
  cause: Request failed after 3 retries in 7.6s
  cause: Failed to fetch: http://127.0.0.1:8799/simple/setuptools/
  cause: tcp connect error
  cause: Connection refused (os error 111)
"""
GCC = """\
  src/_speedups.c:1:10: fatal error: Python.h: No such file or directory
  error: command '/usr/bin/gcc' failed with exit code 1
"""
BROKEN_BUILD = """\
  File "setup.py", line 3, in <module>
    raise SystemExit("this sdist cannot build")
"""

PROD = Source("https://pypi.org/simple/")
PIP_CONFIG = Source("")


@pytest.mark.parametrize(
    ("output", "names"),
    [
        (UV_DEP, ("no-such-dep-xyz",)),
        (UV_BUILD, ("no-such-backend-xyz",)),
        (UV_VERSION, ("dep-lib",)),
        (PIP_BUILD, ("setuptools",)),
        (PIP_DEP, ("dep-lib",)),
        (GCC, ()),
    ],
)
def test_what_pip_and_uv_could_not_find(output: str, names: tuple[str, ...]) -> None:
    assert not_found(output) == names


@pytest.mark.parametrize(
    ("kind", "output", "says", "fault"),
    [
        ("wheel", UV_DEP, "dependency no-such-dep-xyz could not be found on https://pypi.org", 0),
        ("sdist", UV_BUILD, "build requirement no-such-backend-xyz could not be found", 0),
        ("sdist", PIP_BUILD, "build requirement setuptools could not be found", 0),
        ("wheel", PIP_DEP, "dependency dep-lib could not be found on https://pypi.org", 0),
        ("wheel", PIP_UNREACHABLE, "https://pypi.org/simple/ could not be reached", 0),
        ("sdist", UV_UNREACHABLE, "https://pypi.org/simple/ could not be reached", 0),
        ("sdist", GCC, "needs a compiler or a library this machine does not have", 0),
        ("sdist", BROKEN_BUILD, "failed (exit 1)", 1),
    ],
)
def test_install_advice_follows_the_cause(kind: str, output: str, says: str, fault: int) -> None:
    verdict = install_verdict("demo-1.0.tar.gz", kind, output, 1, PROD, "1.0")
    assert says in verdict.message
    assert verdict.packaging_fault is bool(fault)
    assert "1.0 is still free there" in verdict.fix
    if not fault and "could not be found" in says:
        assert "dependency-index-url" in verdict.fix
        assert "verify_test_install again" in verdict.fix
    if not fault:
        assert "Fix the package" not in verdict.fix
        assert "The package does not install" not in verdict.fix


def test_a_dependency_missing_from_the_pip_configuration_names_it() -> None:
    verdict = install_verdict("demo-1.0-py3-none-any.whl", "wheel", UV_DEP, 1, PIP_CONFIG, "1.0")
    assert "your pip configuration" in verdict.message
    assert "pip configuration reach an index" in verdict.fix


BLACK_REQUIRES = [
    "click>=8.0.0",
    "mypy-extensions>=0.4.3",
    "packaging>=22.0",
    'colorama>=0.4.3; extra == "colorama"',
    'aiohttp!=3.9.0,>=3.7.4; (sys_platform == "win32" and implementation_name == "pypy") and '
    'extra == "d"',
    'aiohttp>=3.7.4; (sys_platform != "win32" or implementation_name != "pypy") and extra == "d"',
    'ipython>=7.8.0; extra == "jupyter"',
    'tokenize-rt>=3.2.0; extra == "jupyter"',
    'uvloop>=0.15.2; extra == "uvloop"',
    'PyYAML>=6; extra == "yaml"',
    "python-dateutil>=2.8",
]


@pytest.mark.parametrize(
    ("module", "extras"),
    [
        ("aiohttp", ("d",)),
        ("aiohttp.web", ("d",)),
        ("IPython", ("jupyter",)),
        ("yaml", ("yaml",)),
        ("click", ()),  # a base dependency
        ("dateutil", ()),  # python-dateutil, a base dependency
        ("numpy", ()),  # nobody's
    ],
)
def test_which_extra_provides_a_module(module: str, extras: tuple[str, ...]) -> None:
    assert extra_only(BLACK_REQUIRES, module) == extras


def _blackd() -> ImportFailure:
    return ImportFailure("blackd", "ModuleNotFoundError", "No module named 'aiohttp'", "aiohttp")


def test_a_module_that_needs_an_optional_extra_is_a_warning() -> None:
    warnings, verdict = import_verdict(
        [_blackd()], ["black", "blib2to3"], "black", BLACK_REQUIRES, configured=False, version="1"
    )
    assert verdict is None
    assert len(warnings) == 1
    assert "blackd was not imported: it needs aiohttp" in warnings[0]
    assert "black[d]" in warnings[0]
    assert "import-names" in warnings[0]


def test_an_import_error_raised_from_the_missing_module_is_read_through() -> None:
    """blackd 24.2.0 raises ImportError("aiohttp dependency is not installed: ...") from the
    ModuleNotFoundError; the smoke script reports the module its cause names."""
    failure = ImportFailure(
        "blackd",
        "ImportError",
        "aiohttp dependency is not installed: No module named 'aiohttp'. Please re-install "
        "black with the '[d]' extra",
        "aiohttp",
    )
    warnings, verdict = import_verdict(
        [failure], ["black"], "black", BLACK_REQUIRES, configured=False, version="24.2.0"
    )
    assert verdict is None
    assert "black[d]" in warnings[0]


def test_a_module_named_in_import_names_must_import_even_when_optional() -> None:
    _, verdict = import_verdict(
        [_blackd()], ["black"], "black", BLACK_REQUIRES, configured=True, version="24.2.0"
    )
    assert verdict is not None
    assert not verdict.packaging_fault
    assert "black[d]" in verdict.message
    assert "Take blackd out of import-names" in verdict.fix
    assert "24.2.0 is still free" in verdict.fix


def test_a_module_that_imports_an_undeclared_dependency_is_a_packaging_fault() -> None:
    failure = ImportFailure("demo", "ModuleNotFoundError", "No module named 'numpy'", "numpy")
    _, verdict = import_verdict(
        [failure], ["demo_cli"], "demo", ["click"], configured=False, version="1.0"
    )
    assert verdict is not None
    assert verdict.packaging_fault
    assert "imports numpy, which is not among demo's dependencies" in verdict.message
    assert "add it to the dependencies" in verdict.fix
    assert "import-names = ['demo_cli']" in verdict.fix  # ... or leave the module out


def test_an_import_that_raises_is_a_packaging_fault_with_the_error() -> None:
    failure = ImportFailure("demo", "ZeroDivisionError", "division by zero")
    _, verdict = import_verdict([failure], [], "demo", [], configured=False, version="1.0")
    assert verdict is not None
    assert verdict.packaging_fault
    assert "demo: ZeroDivisionError: division by zero" in verdict.message
    assert "release the next version" in verdict.fix


def test_only_optional_modules_is_not_a_proof() -> None:
    _, verdict = import_verdict(
        [_blackd()], [], "black", BLACK_REQUIRES, configured=False, version="1"
    )
    assert verdict is not None
    assert "without an optional extra" in verdict.message


@pytest.mark.parametrize(
    ("code", "output", "says"),
    [
        (3, "line 1\nTraceback...\nRuntimeError: boom\n", "exited with status 3"),
        (None, "[Errno 2] No such file or directory: 'democli'", "could not be started"),
    ],
)
def test_a_failing_smoke_command_shows_command_status_and_tail(
    code: int | None, output: str, says: str
) -> None:
    verdict = smoke_verdict("democli --version", code, output, "wheel", "2.0.1")
    assert "`democli --version`" in verdict.message
    assert says in verdict.message
    assert output.strip().splitlines()[-1] in verdict.message
    assert "2.0.1 is still free there" in verdict.fix
    assert "correct smoke-command" in verdict.fix
    assert not verdict.packaging_fault


def test_the_tail_is_the_last_lines() -> None:
    output = "\n".join(f"line {n}" for n in range(40))
    verdict = smoke_verdict("x", 1, output, "wheel", "1")
    assert "line 39" in verdict.message
    assert "line 24" not in verdict.message


# ---------------------------------------------------------------- verify itself, end to end


def _verify(root: Path, env: dict[str, str], *, pip_config: bool = True) -> Context:
    ctx = make_ctx(root, env)
    ctx.deps_from_pip_config = pip_config
    build_command.build(ctx)
    upload_command.upload(ctx, "test")
    verify_command.verify(ctx)
    return ctx


def test_a_dependency_the_dependency_index_lacks_names_the_index_not_a_package_fault(
    make_project: ProjectFactory, index_pair: IndexPair
) -> None:
    test, prod = index_pair
    root = make_project(dependencies=("dep-nowhere-xyz",), extra_release="verify-sdist = false\n")
    with pytest.raises(VerificationFailed) as failed:
        _verify(root, environ_for(test, prod), pip_config=False)  # deps: the prod index
    message, fix = failed.value.message, failed.value.fix
    assert "dependency dep-nowhere-xyz could not be found on" in message
    assert prod.index_url.rstrip("/") in message
    assert "dependency-index-url" in fix
    assert "1.0.0 is still free there" in fix
    assert failed.value.exit_code == ExitCode.VERIFY_FAILED


def _with_optional_module(root: Path) -> Path:
    """A second top-level module that needs a dependency only the extra [server] installs, and
    says so in an ImportError of its own raised from the ModuleNotFoundError (as blackd)."""
    (root / "src" / "demo_pkg_server.py").write_text(  # as blackd does it
        "try:\n    import dep_lib_xyz\nexcept ImportError as exc:\n"
        "    raise ImportError('install demo-pkg[server]') from exc\n",
        encoding="utf-8",
    )
    pyproject = root / "pyproject.toml"
    text_ = pyproject.read_text(encoding="utf-8").replace(
        "\n[tool.release]",
        '\n[project.optional-dependencies]\nserver = ["dep-lib-xyz"]\n\n[tool.release]',
    )
    pyproject.write_text(text_, encoding="utf-8")
    return root


def test_a_module_of_an_optional_extra_is_warned_about_and_verify_passes(
    make_project: ProjectFactory, index_pair: IndexPair
) -> None:
    test, prod = index_pair
    root = _with_optional_module(make_project(extra_release="verify-sdist = false\n"))
    ctx = _verify(root, environ_for(test, prod))
    out = text(ctx)
    assert "demo_pkg_server was not imported: it needs dep_lib_xyz" in out
    assert "demo-pkg[server]" in out
    assert "imported demo_pkg" in out


def test_an_optional_module_named_in_import_names_fails_without_blaming_the_package(
    make_project: ProjectFactory, index_pair: IndexPair
) -> None:
    test, prod = index_pair
    release = 'verify-sdist = false\nimport-names = ["demo_pkg", "demo_pkg_server"]\n'
    root = _with_optional_module(make_project(extra_release=release))
    with pytest.raises(VerificationFailed) as failed:
        _verify(root, environ_for(test, prod))
    assert "demo-pkg[server]" in failed.value.message
    assert "Take demo_pkg_server out of import-names" in failed.value.fix


def test_a_failing_smoke_command_shows_the_command_its_status_and_its_output(
    make_project: ProjectFactory, index_pair: IndexPair
) -> None:
    test, prod = index_pair
    command = "python -c \"import sys; print('the-last-words'); sys.exit(3)\""
    root = make_project(extra_release=f"verify-sdist = false\nsmoke-command = '''{command}'''\n")
    with pytest.raises(VerificationFailed) as failed:
        _verify(root, environ_for(test, prod))
    message = failed.value.message
    assert f"`{command}` exited with status 3" in message
    assert "the-last-words" in message
    assert "1.0.0 is still free there" in failed.value.fix
    assert prod.uploads == 0


def test_a_verify_run_again_after_the_prod_upload_says_the_version_is_taken(
    make_project: ProjectFactory, index_pair: IndexPair
) -> None:
    test, prod = index_pair
    root = make_project(extra_release="verify-sdist = false\n")
    ctx = _verify(root, environ_for(test, prod))
    upload_command.upload(ctx, "prod")
    failing = "smoke-command = \"python -c 'raise SystemExit(4)'\"\n"
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + failing, encoding="utf-8")
    again = make_ctx(root, environ_for(test, prod))
    with pytest.raises(VerificationFailed) as failed:
        verify_command.verify(again)
    assert "exited with status 4" in failed.value.message
    assert "1.0.0 is already on the prod index, so it is taken there" in failed.value.fix
    assert "still free" not in failed.value.fix

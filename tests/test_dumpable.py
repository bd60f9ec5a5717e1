"""The release process cannot be read by code it starts (issue 18, section 3): an attack, for real.

``python -m release`` marks itself non-dumpable (``prctl(PR_SET_DUMPABLE, 0)``,
release/__main__.py). The kernel then gives ``/proc/<pid>/environ``, ``maps`` and ``mem`` to
root only, and refuses them to other processes of the same user, which could read all three
before. Root bypasses it, so a test run as root proves nothing by reading as root: here the
release process and the attacker (what a build backend's left-behind helper would be) both run
as one unprivileged uid: the current user, or, when the tests run as root, uid 65534
(setgroups/setgid/setuid before exec).

The release process is the real re-exec path: ``python -m release doctor`` with
``PYPI_API_TOKEN`` set (so it restarts without it and takes it over an inherited descriptor
into its memory), held by a stalled index. The attacker reads the environment block, then every
writable mapping of the memory, looking for the token. Both must be refused. Without the prctl
both are read, and the token is in the memory: the control test tries the same attacker on a
process that is not marked. As root, the interpreter may be the system's of the same version
given this one's site-packages (uid 65534 cannot enter /root); the tests skip, saying why, when
no interpreter works.

Tried and left out: root without ``CAP_SYS_PTRACE`` (a CI container as Docker starts it) as
the attacker. On this kernel it reads ``environ`` (which holds no token, thanks to the re-exec)
and is refused ``mem`` whether the process is dumpable or not, so it cannot test the prctl.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.hostile import HostileIndex, wait_for
from tests.sample_projects import write_project

ROOT = Path(__file__).resolve().parents[1]
NOBODY = 65534

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="PR_SET_DUMPABLE and /proc are Linux's"
)

# Run by the attacker: what it could read of process argv[1], looking for argv[2].
ATTACK = r"""
import json, re, sys
pid, secret = sys.argv[1], sys.argv[2].encode()
found = {}
def attempt(what, read):
    try:
        data = read()
    except OSError as exc:
        found[what] = "refused: " + (exc.strerror or type(exc).__name__)
        return
    found[what] = "read, the token in it" if secret in data else "read, no token in it"
def environ():
    with open(f"/proc/{pid}/environ", "rb") as f:
        return f.read()
def memory():
    with open(f"/proc/{pid}/maps") as f:
        maps = f.read()
    data = []
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for line in maps.splitlines():
            span, perms = line.split()[:2]
            if not perms.startswith("rw"):
                continue
            start, end = (int(x, 16) for x in span.split("-"))
            try:
                mem.seek(start)
                data.append(mem.read(min(end - start, 256 << 20)))
            except OSError as exc:
                if exc.errno != 5:  # EIO: an unmapped guard page, not a refusal
                    raise
    return b"".join(data)
attempt("environ", environ)
attempt("mem", memory)
with open("/proc/self/status") as f:
    found["CapEff"] = re.search(r"CapEff:\s*(\w+)", f.read()).group(1)
print(json.dumps(found))
"""

Drop = Callable[[], None] | None


def _as_nobody() -> None:  # pragma: no cover - runs in the child, before exec
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder another uid can read (pytest's tmp_path is private to its user)."""
    folder = Path(tempfile.mkdtemp(prefix="dumpable-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _unreachable(python: str, path: list[str], drop: Drop) -> str:
    """Why ``python`` cannot import the release package as the uid ``drop`` switches to."""
    try:
        probe = subprocess.run(
            [python, "-c", "import release.cli"],
            cwd="/",
            env={"PYTHONPATH": os.pathsep.join(path), "PYTHONDONTWRITEBYTECODE": "1"},
            capture_output=True,
            text=True,
            preexec_fn=drop,
            check=False,
        )
    except OSError as exc:  # cannot even start it (a folder on the way it may not enter)
        return f"{exc.strerror}: {exc.filename}"
    return (probe.stderr.strip().splitlines() or ["?"])[-1][:200] if probe.returncode else ""


def _release_python(drop: Drop) -> tuple[str, list[str]]:
    """An interpreter the uid can run, and the PYTHONPATH that finds ``release`` and its
    dependencies: this one; else (as root, when this interpreter lies in a folder uid 65534
    cannot enter, such as /root/.pyenv) the system's of the same version, given this one's
    site-packages. Skips, saying why, when there is none."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    paths = sysconfig.get_paths()
    candidates = [
        (sys.executable, [str(ROOT)]),
        (f"/usr/bin/{version}", [str(ROOT), paths["purelib"], paths["platlib"]]),
    ]
    reasons = []
    for python, path in candidates:
        if not os.path.exists(python):
            continue
        why = _unreachable(python, path, drop)
        if not why:
            return python, path
        reasons.append(f"{python}: {why}")
    uid = os.geteuid() if drop is None else NOBODY
    pytest.skip(
        f"no Python that uid {uid} can run with the release package ({'; '.join(reasons)}): "
        "the same-user attack on the release process cannot be tried here"
    )


def _attack(tmp: Path, drop: Drop) -> dict[str, str]:
    """Start ``python -m release doctor`` (holding a token) and let the attacker read it;
    both as the uid ``drop`` switches to (None: as this process)."""
    python, path = _release_python(drop)
    token = "pypi-" + secrets.token_urlsafe(48)
    project = write_project(tmp / "project")
    for item in (tmp, *tmp.rglob("*")):
        item.chmod(0o755 if item.is_dir() else 0o644)
    with HostileIndex("stall") as index:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RELEASE_", "PYPI_"))}
        env |= {
            "PYTHONPATH": os.pathsep.join(path),
            "PYTHONDONTWRITEBYTECODE": "1",
            "HOME": str(tmp),
            "PYPI_API_TOKEN": token,
            "RELEASE_TEST_INDEX_URL": index.index_url,
            "RELEASE_TEST_UPLOAD_URL": index.upload_url,
            "RELEASE_TIMEOUT": "120",
            "RELEASE_TRUSTED_PUBLISHING": "off",
        }
        release = subprocess.Popen(
            [python, "-m", "release", "--root", str(project), "doctor", "--index", "test"],
            env=env,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=drop,
        )
        try:
            # It reads the index only after the restart, with the token back in its memory.
            assert wait_for(lambda: index.requests or release.poll() is not None, 60)
            assert release.poll() is None, release.communicate()[1][-2000:]
            return _read_as_attacker(python, release.pid, token, tmp, drop)
        finally:
            release.kill()
            release.communicate()


def _read_as_attacker(python: str, pid: int, token: str, cwd: Path, drop: Drop) -> dict[str, str]:
    """What :data:`ATTACK`, run as the uid ``drop`` switches to, could read of process ``pid``
    (its environment block and its memory), looking for ``token``."""
    attack = subprocess.run(
        [python, "-I", "-c", ATTACK, str(pid), token],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        preexec_fn=drop,
        check=False,
    )
    assert attack.returncode == 0, attack.stderr[-2000:]
    result: dict[str, str] = json.loads(attack.stdout)
    return result


def test_a_process_of_the_same_user_cannot_read_the_release_process(shared_tmp: Path) -> None:
    """Same uid, no capabilities: the environment block and the memory are refused."""
    result = _attack(shared_tmp, _as_nobody if os.geteuid() == 0 else None)
    assert int(result["CapEff"], 16) == 0, result
    assert result["environ"].startswith("refused"), result
    assert result["mem"].startswith("refused"), result


def _yama_scope() -> int:
    try:
        return int(Path("/proc/sys/kernel/yama/ptrace_scope").read_text())
    except (OSError, ValueError):
        return 0


def test_the_same_attacker_reads_a_process_that_is_not_marked(shared_tmp: Path) -> None:
    """The control: the same attacker, the same uid, against a process that holds a token and
    is not marked non-dumpable, reads both (so the refusals above are the mark's doing). Under
    Yama's ptrace_scope >= 1 the kernel refuses ``mem`` to a non-ancestor anyway: then only
    ``environ`` can be tried here."""
    drop = _as_nobody if os.geteuid() == 0 else None
    python, path = _release_python(drop)
    token = "pypi-" + secrets.token_urlsafe(48)
    env = {"PYTHONPATH": os.pathsep.join(path), "PYTHONDONTWRITEBYTECODE": "1", "HELD": token}
    holder = subprocess.Popen(
        [
            python,
            "-c",
            "import os, sys, time; held = os.environ['HELD'] * 2; print(flush=True); "
            "time.sleep(120)",
        ],
        env=env,
        cwd=shared_tmp,
        stdout=subprocess.PIPE,
        preexec_fn=drop,
    )
    try:
        assert holder.stdout is not None
        holder.stdout.readline()  # started, the token read into its memory
        result = _read_as_attacker(python, holder.pid, token, shared_tmp, drop)
    finally:
        holder.kill()
        holder.communicate()
    assert result["environ"] == "read, the token in it", result
    if _yama_scope() == 0:
        assert result["mem"] == "read, the token in it", result

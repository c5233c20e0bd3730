"""SIGTERM and SIGHUP stop `mlstart new` like Ctrl-C: nothing left on disk or running.

Each case runs `mlstart new` as a process with TMPDIR pointed at a folder of the test and a
marker in its environment (inherited by every process it starts), sends the signal at a
moment detected by polling (the staging folder filling up, the `uv lock` child running),
and checks the exit status, the destination's folder, TMPDIR, and that no process carrying
the marker is still running.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from mlstart.signals import descendants

#: How long a moment may take to come before the test gives up.
MOMENT_TIMEOUT_S = 60.0


@pytest.fixture
def silent_index() -> Iterator[str]:
    """A package index that accepts connections and never answers: `uv lock` waits on it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/simple"
    server.close()
    for connection in accepted:
        connection.close()


def marked_processes(marker: str) -> list[int]:
    """Processes (of this user) whose environment holds ``marker``."""
    found = []
    needle = marker.encode()
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if needle in environ.read_bytes():
                found.append(int(environ.parent.name))
        except OSError:
            continue
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def staging_has_files(out: Path) -> Callable[[subprocess.Popen[str]], bool]:
    def ready(_process: subprocess.Popen[str]) -> bool:
        return any(any(staging.iterdir()) for staging in out.glob(".*.mlstart-*"))

    return ready


def uv_lock_running(process: subprocess.Popen[str]) -> bool:
    return any(" lock" in cmdline(pid) for pid in descendants(process.pid))


def at_once(_process: subprocess.Popen[str]) -> bool:
    return True


MOMENTS = {
    "very early": (at_once, ["--no-lock"]),
    "during render": (None, ["--no-lock"]),
    "during the lock": (uv_lock_running, []),
}


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["TERM", "HUP"])
@pytest.mark.parametrize("moment", list(MOMENTS))
def test_signal_leaves_nothing_behind(
    tmp_path: Path, silent_index: str, signum: signal.Signals, moment: str
) -> None:
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    out.mkdir()
    tmp.mkdir()
    marker = f"MLSTART_SIGNAL_TEST={os.getpid()}-{tmp_path.name}"
    name, value = marker.split("=")
    env = {
        **os.environ,
        "TMPDIR": str(tmp),
        name: value,
        "UV_DEFAULT_INDEX": silent_index,
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
        "UV_HTTP_TIMEOUT": str(int(MOMENT_TIMEOUT_S)),
    }
    ready, options = MOMENTS[moment]
    ready = ready or staging_has_files(out)
    process = subprocess.Popen(
        [sys.executable, "-m", "mlstart", "new", "Stop Me", "--defaults", "-o", str(out),
         *options],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + MOMENT_TIMEOUT_S
        while not ready(process):
            assert process.poll() is None, f"ended before the moment: {process.stderr.read()}"
            assert time.monotonic() < deadline, f"the moment {moment!r} never came"
            time.sleep(0.005)
        process.send_signal(signum)
        _, err = process.communicate(timeout=MOMENT_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    # Before Python has installed the handlers, the signal's default action ends the
    # process: the shell sees the same status (128 + signal) and nothing was created yet.
    status = 128 - process.returncode if process.returncode < 0 else process.returncode
    assert status == 128 + signum, err
    if process.returncode > 0:
        assert err.strip().splitlines()[-1] == f"error: stopped by {signum.name}", err
    assert list(out.iterdir()) == []
    assert list(tmp.iterdir()) == []
    assert marked_processes(marker) == []


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_the_handler_ends_children_and_grandchildren(tmp_path: Path) -> None:
    """Children that no `subprocess.run` will kill (a shell and its background job) end too."""
    marker = f"MLSTART_SIGNAL_TEST={os.getpid()}-grandchildren"
    name, value = marker.split("=")
    script = (
        "import os, signal, subprocess, sys, time\n"
        "from mlstart.signals import Interrupted, descendants, install\n"
        "install()\n"
        "subprocess.Popen(['sh', '-c', 'sleep 300 & wait'])\n"
        "while len(descendants(os.getpid())) < 2:\n"
        "    time.sleep(0.01)\n"
        "try:\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    time.sleep(30)\n"
        "except Interrupted as stopped:\n"
        "    sys.exit(128 + stopped.signum)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env={**os.environ, name: value},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 143, result.stderr
    assert marked_processes(marker) == []

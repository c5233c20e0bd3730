"""SIGTERM and SIGHUP, handled like Ctrl-C.

``timeout``, CI cancellation and ``docker stop`` send SIGTERM; closing a terminal sends
SIGHUP. Python's default for both ends the process on the spot, skipping every cleanup.
:func:`install` makes them raise :class:`Interrupted` instead, a :class:`KeyboardInterrupt`,
so the cleanup that already runs on Ctrl-C (staging folder, temporary clone) runs for them
too. Before raising, the handler ends mlstart's child processes (``uv lock``, ``git``) and
waits for them, so none is left running or writing into a folder being removed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable
from pathlib import Path
from types import FrameType

#: The signals handled like Ctrl-C.
HANDLED = (signal.SIGTERM, signal.SIGHUP)
#: Seconds children get to exit after SIGTERM before they are killed.
CHILD_GRACE_S = 3.0


class Interrupted(KeyboardInterrupt):
    """A signal asked mlstart to stop; the command line exits ``128 + signum``.

    Attributes:
        signum: The signal received.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


#: The signals received since :func:`install`, first one first.
_received: list[int] = []


def install() -> None:
    """Handle SIGTERM and SIGHUP like Ctrl-C for the rest of the process."""
    _received.clear()
    for signum in HANDLED:
        signal.signal(signum, _on_signal)


def received() -> int | None:
    """The first handled signal received since :func:`install`, if any.

    typer turns every :class:`KeyboardInterrupt` into exit status 130; the command line
    asks this to tell SIGTERM and SIGHUP apart.
    """
    return _received[0] if _received else None


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    _received.append(signum)
    for handled in HANDLED:  # the cleanup that follows must not be cut short by a repeat
        signal.signal(handled, _ignore)
    end_descendants()
    raise Interrupted(signum)


def _ignore(_signum: int, _frame: FrameType | None) -> None:
    """Swallow a repeated signal (unlike SIG_IGN, not inherited by new child processes)."""


def end_descendants(grace_s: float = CHILD_GRACE_S) -> None:
    """Send SIGTERM to every descendant of this process, then SIGKILL to those still running.

    Descendants are found in ``/proc``; where there is none (not Linux), only the direct
    children that :mod:`subprocess` started are ended, by :func:`subprocess.run` itself.
    """
    pids = descendants(os.getpid())
    _send(pids, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while (running := [pid for pid in pids if _running(pid)]) and time.monotonic() < deadline:
        time.sleep(0.02)
    _send(running, signal.SIGKILL)


def descendants(root: int, proc: Path = Path("/proc")) -> list[int]:
    """The process ids below ``root`` (children, grandchildren, ...), read from ``proc``."""
    children: dict[int, list[int]] = {}
    for stat in proc.glob("[0-9]*/stat"):
        try:
            pid, parent = _pid_and_parent(stat.read_text(encoding="utf-8", errors="replace"))
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(pid)
    found: list[int] = []
    pending = list(children.get(root, []))
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending += children.get(pid, [])
    return found


def _pid_and_parent(stat: str) -> tuple[int, int]:
    """Parse ``/proc/<pid>/stat``: the command name in parentheses may hold spaces."""
    pid = int(stat.split(" ", 1)[0])
    fields = stat[stat.rindex(")") + 2 :].split()
    return pid, int(fields[1])


def _running(pid: int, proc: Path = Path("/proc")) -> bool:
    """Whether ``pid`` exists and is not a zombie waiting to be reaped."""
    try:
        stat = (proc / str(pid) / "stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].split()[0] != "Z"


def _send(pids: Iterable[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signum)

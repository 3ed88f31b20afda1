"""Child-process plumbing for the embedded engines: ports, spawning, stopping, waiting.

The engines are long-lived children of whatever started them (`turnout dev`, a test
session). Two rules from DESIGN.md §6 shape this module:

* a child's output goes to a log file, never to a pipe: nobody drains a pipe, and a child
  blocked on a full pipe hangs the parent that waits on it;
* a killed parent must leave nothing behind, so each child asks the kernel for SIGTERM when
  its parent dies (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import pathlib
import pwd
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = [
    "EngineStartError",
    "free_port",
    "port_is_free",
    "run_as",
    "spawn",
    "stop_process",
    "user_ids",
    "wait_until",
]

_PR_SET_PDEATHSIG = 1


class EngineStartError(RuntimeError):
    """An engine could not be started; the message names the engine and the log to read.

    Defined here (and re-exported by `engines`) because `wait_until` raises it.
    """


def free_port(host: str = "127.0.0.1") -> int:
    """An unused TCP port on `host`, chosen by the kernel.

    The port is only free at the time of the call: a caller that loses the race sees its
    child fail to bind and should retry with a new port.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # The engines bind with SO_REUSEADDR too, so a port whose old connections linger in
        # TIME_WAIT is usable and must not be reported as taken.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _die_with_parent(parent_pid: int) -> Callable[[], None]:
    """A preexec_fn that makes the child receive SIGTERM when its parent dies."""
    if not sys.platform.startswith("linux"):
        return lambda: None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)

    def preexec() -> None:
        # CPython runs preexec_fn after dropping privileges (setregid/setreuid); that order
        # matters because a credential change clears the death signal.
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        # The parent may have died between fork and prctl; then no signal will ever come.
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


def run_as(user: str | None) -> dict[str, Any]:
    """Popen/subprocess.run keyword arguments that run the child as `user`, when we are root.

    Without root we cannot switch users; the child then simply runs as us.
    """
    if user is None or os.geteuid() != 0:
        return {}
    entry = pwd.getpwnam(user)
    # extra_groups=[] drops root's supplementary groups, which the child must not keep.
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def user_ids(user: str) -> tuple[int, int]:
    """(uid, gid) of `user`, for chown-ing what a child running as that user must own."""
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def spawn(
    argv: list[str],
    *,
    log_path: pathlib.Path,
    env: dict[str, str] | None = None,
    cwd: pathlib.Path | None = None,
    user: str | None = None,
) -> subprocess.Popen:
    """Start `argv` in its own session with stdout and stderr appended to `log_path`.

    Its own session keeps a Ctrl-C in the terminal from reaching the engine directly: the
    parent decides how each engine is stopped (PostgreSQL wants SIGINT, the others SIGTERM).

    The death signal fires when the *thread* that called spawn exits, not only the process:
    call it from the main thread or a thread that lives as long as the child should (not
    from a short-lived worker such as `asyncio.to_thread`'s).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # Opened by the parent, so a child running as another user can still write it.
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_die_with_parent(os.getpid()),
            **run_as(user),
        )


def stop_process(
    proc: subprocess.Popen, *, sig: int = signal.SIGTERM, timeout: float = 10.0
) -> None:
    """Ask `proc` to stop with `sig`; SIGKILL its whole process group if it has not after
    `timeout` seconds. Calling it again, or on a process that already exited, is a no-op."""
    if proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(timeout=timeout)
        return
    except subprocess.TimeoutExpired:
        pass
    # start_new_session made the child a group leader, so its pid is the group id; killing
    # the group also takes the workers a stuck leader would otherwise orphan.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def wait_until(
    predicate: Callable[[], bool], *, timeout: float, interval: float = 0.05, what: str
) -> None:
    """Poll `predicate` until it returns true; raise EngineStartError after `timeout` s.

    The predicate may itself raise (e.g. EngineStartError when the child died) to stop the
    wait early.
    """
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise EngineStartError(f"{what} not ready after {timeout}s")
        time.sleep(interval)

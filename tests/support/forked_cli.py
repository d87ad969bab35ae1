"""``python -m issuesync`` run as a user runs it, without paying for its imports each time.

Starting the command line costs ~1.2 s, nearly all of it importing issuesync and its
libraries, and the CLI tests run a few hundred commands. :func:`run_issuesync` runs each
one as a real process all the same: a process of its own, with the arguments, environment,
working folder and standard input it is given, its stdout and stderr captured, the umask
``main`` sets, and the exit code it ends with. What it skips is the interpreter's start
and the imports: one server process per test process imports ``issuesync.cli`` once and
forks a child for each command, which runs the package's ``__main__`` as ``python -m
issuesync`` does (``runpy``, ``sys.argv[0]`` the path of ``__main__.py``).

A command whose environment differs from the server's in more than what a command is
given (``ISSUESYNC_*``, ``COLUMNS``, ``LINES``; pytest's ``PYTEST_CURRENT_TEST``) could
import differently: it starts ``python -m issuesync`` afresh instead, as does every
command where processes cannot fork.
The start from nothing stays tested where it is the point: ``test_cli.test_version``,
and the tests of ``serve``, of a prompt at a terminal and of the README.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# What a command may set without the server's imports being any different: issuesync reads
# its settings when a command runs, and rich and click read the width when they print.
PER_COMMAND = ("ISSUESYNC_", "COLUMNS", "LINES", "PYTEST_CURRENT_TEST")


def _shared(environment: Mapping[str, str]) -> dict[str, str]:
    """What of ``environment`` the server's imports may have read."""
    return {k: v for k, v in environment.items() if not k.startswith(PER_COMMAND)}


def run_issuesync(
    args: tuple[str, ...] | list[str],
    env: Mapping[str, str],
    *,
    cwd: Path | None = None,
    input: str | None = None,  # noqa: A002 - subprocess.run's name
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``subprocess.run([python, "-m", "issuesync", *args], capture_output=True, text=True)``
    with ``env``, ``cwd`` and ``input``; standard input is empty when ``input`` is None."""
    command = [sys.executable, "-m", "issuesync", *args]
    server = _server()
    if server is None or _shared(env) != server.environment:
        return subprocess.run(  # noqa: S603 - our own entry point, arguments from the test
            command,
            input=input or "",
            capture_output=True,
            text=True,
            env=dict(env),
            cwd=cwd,
            timeout=timeout,
            check=False,
        )
    return server.run(command, env, cwd or Path.cwd(), input or "", timeout)


_lock = threading.Lock()
_started: ForkServer | None = None


def _server() -> ForkServer | None:
    """This process's server, started on first use (None where processes cannot fork)."""
    global _started  # noqa: PLW0603 - one server per test process
    if not hasattr(os, "fork"):
        return None
    with _lock:
        if _started is None or not _started.alive():
            _started = ForkServer(_shared(os.environ))
            atexit.register(_started.stop)
        return _started


class ForkServer:
    """A process that has imported issuesync's command line and forks one child a command."""

    def __init__(self, environment: dict[str, str]) -> None:
        self.environment = environment
        self._lock = threading.Lock()
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - the server's stderr, closed in stop
        requests_in, self._requests = os.pipe()
        self._replies, replies_out = os.pipe()
        self._pending = b""
        self._process = subprocess.Popen(  # noqa: S603 - this file, run by this interpreter
            [sys.executable, __file__, str(requests_in), str(replies_out)],
            pass_fds=(requests_in, replies_out),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            env=environment,
        )
        os.close(requests_in)
        os.close(replies_out)

    def alive(self) -> bool:
        return self._process.poll() is None

    def run(
        self, command: list[str], env: Mapping[str, str], cwd: Path, stdin: str, timeout: float
    ) -> subprocess.CompletedProcess[str]:
        with self._lock, tempfile.TemporaryDirectory(prefix="issuesync-cli-") as folder:
            streams = {name: Path(folder, name) for name in ("stdin", "stdout", "stderr")}
            streams["stdin"].write_text(stdin)
            job = {"args": command[3:], "env": dict(env), "cwd": str(cwd)}
            job |= {name: str(path) for name, path in streams.items()}
            os.write(self._requests, json.dumps(job).encode() + b"\n")
            pid = self._reply(None)["pid"]
            ended = self._reply(time.monotonic() + timeout)
            if ended is None:
                os.kill(pid, signal.SIGKILL)
                self._reply(None)
                raise subprocess.TimeoutExpired(command, timeout)
            return subprocess.CompletedProcess(
                command,
                ended["status"],
                streams["stdout"].read_text(),
                streams["stderr"].read_text(),
            )

    def _reply(self, deadline: float | None) -> Any:
        """The server's next line, or None when ``deadline`` passes first."""
        while b"\n" not in self._pending:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([self._replies], [], [], wait)[0]:
                return None
            chunk = os.read(self._replies, 4096)
            if not chunk:
                self._log.seek(0)
                raise RuntimeError(f"the CLI fork server ended: {self._log.read()[-2000:]!r}")
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return json.loads(line)

    def stop(self) -> None:
        os.close(self._requests)  # the server ends at the end of its input
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(10)
        os.close(self._replies)
        self._log.close()


def _serve(requests: int, replies: int) -> None:
    """The server: for each request line, fork; the child runs the command."""
    import gc  # noqa: PLC0415 - the server's alone

    import issuesync.cli  # noqa: F401, PLC0415 - the imports every command would pay for

    if threading.active_count() != 1:  # a fork copies one thread only
        sys.exit("importing issuesync.cli started a thread: cannot fork safely")
    os.set_inheritable(requests, False)  # noqa: FBT003 - os's signature
    os.set_inheritable(replies, False)  # noqa: FBT003
    gc.freeze()  # the imports' objects: never collected, so their pages stay shared
    with os.fdopen(requests, "rb") as lines:
        for line in lines:
            job = json.loads(line)
            pid = os.fork()
            if pid == 0:
                os.close(requests)
                os.close(replies)
                _child(job)  # never returns
            os.write(replies, json.dumps({"pid": pid}).encode() + b"\n")
            _, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
            os.write(replies, json.dumps({"status": code}).encode() + b"\n")


def _child(job: dict[str, Any]) -> None:
    """Become ``python -m issuesync ARGS`` with the job's environment, folder and streams."""
    code = 1
    try:
        os.chdir(job["cwd"])
        os.environ.clear()
        os.environ.update(job["env"])
        for fd, name, flags in (
            (0, "stdin", os.O_RDONLY),
            (1, "stdout", os.O_WRONLY),
            (2, "stderr", os.O_WRONLY),
        ):
            opened = os.open(job[name], flags | (os.O_CREAT if fd else 0), 0o600)
            os.dup2(opened, fd)
            os.close(opened)
        sys.path[0] = job["cwd"]  # as -m puts it
        sys.argv = ["-m", *job["args"]]  # run_module puts __main__.py's path first
        code = _main()
    except BaseException:  # noqa: BLE001 - said on the command's stderr, as Popen would raise
        sys.excepthook(*sys.exc_info())
    finally:
        os._exit(code)


def _main() -> int:
    """Run ``issuesync.__main__`` and end as the interpreter ends; the exit code."""
    import runpy  # noqa: PLC0415

    try:
        runpy.run_module("issuesync", run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)  # noqa: T201 - as the interpreter says it
            code = 1
    except BaseException:  # noqa: BLE001 - what the interpreter would print, and exit 1
        sys.excepthook(*sys.exc_info())
        code = 1
    # The interpreter's exit: wait for threads that are not daemons, run atexit, flush.
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    return code


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]))

#!/usr/bin/python3
"""Runs the dpgcert tool on a pseudo-terminal, as an admin at a terminal sees it: the password
prompt does not echo, Ctrl-C at the prompt ends the tool with the terminal's echo back on, and
tables use the terminal's width (cut with "~" on a narrow one, whole with --wide or when piped).

    check_tty.py TOOL TESTDATA
"""
import fcntl
import os
import select
import signal
import subprocess
import sys
import tempfile
import termios
import time

TOOL, DATA = sys.argv[1], sys.argv[2]
NOW = "2025-06-01T00:00:00Z"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def spawn_on_pty(args, columns=80, env=None):
    """Starts the tool with a new pseudo-terminal as its controlling terminal and stdin/out/err.
    Returns (pid, master, slave); the parent keeps the slave open to read the terminal's modes."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, bytes([24, 0, columns, 0, 0, 0, 0, 0]))
    full_env = dict(os.environ, **(env or {}))
    full_env.pop("COLUMNS", None)
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            for fd in (0, 1, 2):
                os.dup2(slave, fd)
            os.close(master)
            os.execve(TOOL, [TOOL] + args, full_env)
        finally:
            os._exit(127)
    return pid, master, slave


def read_until(master, needle, timeout=20.0):
    out = b""
    deadline = time.monotonic() + timeout
    while needle.encode() not in out and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out.decode("utf-8", "replace")


def finish(pid, master, timeout=20.0):
    """Reads the rest of the output and waits for the process; returns (output, wait status)."""
    out = b""
    status = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
        ready, _, _ = select.select([master], [], [], 0.05)
        chunk = b""
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                chunk = b""
        out += chunk
        if status is not None and not chunk:
            return out.decode("utf-8", "replace"), status
    if status is None:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        failures.append("the tool did not finish in time")
    return out.decode("utf-8", "replace"), status


def echo_on(fd):
    return bool(termios.tcgetattr(fd)[3] & termios.ECHO)


with tempfile.TemporaryDirectory(prefix="dpgcert-tty-") as tmp:
    store = ["--store", os.path.join(tmp, "store.db")]
    validation = ["--now", NOW, "--trust", os.path.join(DATA, "oces2-prod/root.crt.pem")]
    subprocess.run([TOOL] + store + ["store", "init", "--key-file", os.path.join(tmp, "k")], check=True, capture_output=True)
    name = "Et meget langt organisationsnavn med mange ord, der ikke kan stå på én linje A/S"
    subprocess.run([TOOL] + store + ["org", "add", "12345674", "--name", name], check=True, capture_output=True)
    p12 = os.path.join(DATA, "oces2-prod/foces.p12")

    # 1. Ctrl-C at the password prompt: the tool ends by SIGINT, the terminal echoes again.
    pid, master, slave = spawn_on_pty(store + ["import", p12] + validation)
    prompt = read_until(master, "password: ")
    check("password: " in prompt, f"no password prompt on the terminal: {prompt!r}")
    check(echo_on(slave) is False, "echo is on while the password is typed")
    os.write(master, b"Te\x03")  # two characters, then Ctrl-C
    out, status = finish(pid, master)
    check(os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT,
          f"Ctrl-C did not end the tool by SIGINT (status {status})")
    check(echo_on(slave), "the terminal was left without echo after Ctrl-C at the prompt")
    check("Te" not in out.replace("PKCS#12 password: ", ""), f"the typed characters were echoed: {out!r}")
    os.close(master)
    os.close(slave)

    # 2. A password typed at the prompt: not echoed, imported, echo back on.
    pid, master, slave = spawn_on_pty(store + ["import", p12] + validation)
    read_until(master, "password: ")
    os.write(master, b"Test1234\n")
    out, status = finish(pid, master)
    check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"the import failed: {status} {out!r}")
    check("imported" in out, f"no 'imported' row: {out!r}")
    check("Test1234" not in out, "the password was echoed")
    check(echo_on(slave), "echo is off after the prompt")
    os.close(master)
    os.close(slave)

    # 3. Widths: 80 columns cut the long name with "~"; 120 columns fit it; --wide never cuts.
    for columns, whole in ((80, False), (120, True)):
        pid, master, slave = spawn_on_pty(store + ["org", "list"], columns=columns)
        out, status = finish(pid, master)
        lines = [l for l in out.replace("\r", "").split("\n") if l]
        check(all(len(l) <= columns for l in lines), f"org list wider than {columns} columns: {lines!r}")
        check((name in out) == whole, f"{columns} columns: whole name {'expected' if whole else 'not expected'}: {out!r}")
        check(whole or "~" in out, f"80 columns: the cut is not marked with ~: {out!r}")
        os.close(master)
        os.close(slave)
    pid, master, slave = spawn_on_pty(store + ["org", "list", "--wide"], columns=80)
    out, _ = finish(pid, master)
    check(name in out, f"--wide cut the name on a terminal: {out!r}")
    os.close(master)
    os.close(slave)
    piped = subprocess.run([TOOL] + store + ["org", "list"], capture_output=True, text=True, check=True).stdout
    check(name in piped, f"piped output was cut: {piped!r}")

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("prompt, Ctrl-C and widths on a pseudo-terminal: ok")

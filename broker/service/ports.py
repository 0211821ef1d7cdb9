"""Who holds a TCP port: so "address in use" names the process to look at.

Best effort and Linux only: the listening socket's inode from
``/proc/net/tcp`` and ``/proc/net/tcp6``, then the process whose open files
include that socket. Another user's processes are not visible unless the
broker runs as root; then only the port is named.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path
from urllib.parse import urlsplit

#: /proc/net/tcp's state column for a listening socket
_TCP_LISTEN = "0A"


def tcp_port_of(endpoint: str) -> int | None:
    """The port of a ``tcp://host:port`` endpoint, else None."""
    scheme, _, rest = endpoint.partition("://")
    if scheme != "tcp":
        return None
    try:
        return urlsplit(f"//{rest}").port
    except ValueError:
        return None


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == _TCP_LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def holder_of(port: int) -> str | None:
    """``"pid 1234 (grabdesk broker ...)"`` for the process listening on ``port``, if it can be seen."""
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not wanted:
        return None
    for pid in (name for name in os.listdir("/proc") if name.isdigit()):
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"{fd_dir}/{fd}") in wanted:
                    return f"pid {pid} ({_command_of(pid)})"
            except OSError:
                continue
    return None


def _command_of(pid: str) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    words = [w.decode(errors="replace") for w in raw.split(b"\0") if w]
    text = " ".join(os.path.basename(w) if i == 0 else w for i, w in enumerate(words))
    return text if len(text) <= 120 else text[:117] + "..."


def address_in_use(endpoint: str, what: str) -> str:
    """The sentence for an endpoint that could not be bound because something else holds it."""
    port = tcp_port_of(endpoint)
    if port is None:
        return f"cannot listen for {what} on {endpoint}: the address is in use"
    holder = holder_of(port) or "another process"
    return (f"cannot listen for {what} on {endpoint}: port {port} is already in use by {holder}; "
            f"stop it or choose another port")


def bind_failure(endpoint: str, what: str, exc: Exception) -> str:
    """The sentence for a failed bind of ``endpoint`` (ZeroMQ's error ``exc``)."""
    if getattr(exc, "errno", None) == errno.EADDRINUSE:
        return address_in_use(endpoint, what)
    if getattr(exc, "errno", None) == errno.EACCES:
        return f"cannot listen for {what} on {endpoint}: permission denied (ports below 1024 need privileges)"
    return f"cannot listen for {what} on {endpoint}: {exc}"

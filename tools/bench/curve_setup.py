"""CurveZMQ keys for a benchmark run: every identity the benchmark uses, enrolled.

``curve_fixture(agents)`` builds, in a temporary keys folder, exactly what an
operator builds with ``grabdesk keys``: the broker's key pair, then one client
key pair per identity, each enrolled with its role and identity: the admin
``bench`` (``harness.start_broker`` and ``define_floor`` speak as it), the
intake ``bench-intake``, and the agents ``a0000`` .. as ``harness.agent_ids``
names them for ``harness.define_floor``. Each agent has its own key, because
the broker refuses a command whose identity is not the one its key is enrolled as.

It yields the dict ``arbitration.measure(curve_setup=...)`` takes::

    {"broker_fields": {"curve": True, "keys_dir": DIR},
     "admin": (server_public, public, secret),
     "intake": (server_public, public, secret),
     "agent": {agent_id: (server_public, public, secret), ...},
     "keys_dir": Path}

Keys are z85 bytes, in the order a DEALER's ``curve_serverkey``,
``curve_publickey``, ``curve_secretkey`` take them. The folder is removed on exit.
"""
from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from pathlib import Path

import zmq

from broker.service.keys import BROKER_CERT, ENROLLED_FILE, Enrolled, create_pair, read_pair, write_enrolled
from tools.bench.harness import agent_ids

ADMIN_WHO = "bench"
INTAKE_WHO = "bench-intake"


def make_keys(keys_dir: Path, agents: int, prefix: str = "a", extra: dict[str, tuple[str, str]] | None = None
              ) -> dict:
    """Broker pair plus enrolled client pairs in ``keys_dir``; returns the setup dict.

    ``extra`` maps a name to (role, who) for further enrolled clients (tests use
    it for supervisors); their tuples land in ``setup["extra"][name]``.
    """
    keys_dir = Path(keys_dir)
    _, broker_secret = create_pair(keys_dir, BROKER_CERT)
    server_public, _ = read_pair(broker_secret)
    clients = keys_dir / "clients"
    entries: dict[str, Enrolled] = {}
    now = time.time()

    def client(name: str, role: str, who: str) -> tuple[bytes, bytes, bytes]:
        # the same files and modes `grabdesk keys new` writes
        _, secret_path = create_pair(clients, name)
        public, secret = read_pair(secret_path)
        entries[public.decode("ascii")] = Enrolled(role, who, now)
        return (server_public, public, secret)

    setup = {
        "keys_dir": keys_dir,
        "broker_fields": {"curve": True, "keys_dir": str(keys_dir)},
        "server_public": server_public,
        "admin": client("admin-" + ADMIN_WHO, "admin", ADMIN_WHO),
        "intake": client("intake-" + INTAKE_WHO, "intake", INTAKE_WHO),
        "agent": {a: client("agent-" + a, "agent", a) for a in agent_ids(agents, prefix)},
        "extra": {name: client(name, role, who) for name, (role, who) in (extra or {}).items()},
    }
    # One write instead of one `grabdesk keys enrol` per client (same file format,
    # same atomic replace); 200 enrolments one by one would rewrite it 200 times.
    write_enrolled(keys_dir / ENROLLED_FILE, entries)
    return setup


@contextlib.contextmanager
def curve_fixture(agents: int, prefix: str = "a", extra: dict[str, tuple[str, str]] | None = None):
    if not zmq.has("curve"):
        raise RuntimeError("this libzmq was built without CurveZMQ")
    keys_dir = Path(tempfile.mkdtemp(prefix="grabdesk-keys-"))
    try:
        yield make_keys(keys_dir, agents, prefix, extra)
    finally:
        shutil.rmtree(keys_dir, ignore_errors=True)

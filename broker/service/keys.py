"""CurveZMQ keys: the broker's pair, client pairs, and who is enrolled.

A keys folder holds the broker's certificate (``broker.key`` public,
``broker.key_secret`` secret, written by pyzmq's ``zmq.auth`` in its
certificate format) and ``enrolled.json``: each enrolled client public key
(z85) bound to exactly one role and identity. Secret files are written
owner-only; nothing here logs a secret.

Authentication is pyzmq's own ZAP authenticator (``zmq.auth.thread``); the
policy is the plain ``Enrolment`` class it calls back. The User-Id ZAP gives
a connection is the client's public key, and the broker looks that key up in
the enrolment for every command, so a revocation refuses the client's next
command without a restart, and ZAP refuses its next connection.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator

from broker.wire.keyfiles import KeyFileError, read_pair, read_public
from broker.wire.protocol import Role

log = logging.getLogger(__name__)

BROKER_CERT = "broker"
ENROLLED_FILE = "enrolled.json"
ROLES: tuple[str, ...] = get_args(Role)
#: the enrolment file is re-read at most this often (revocations apply within it)
RELOAD_EVERY_S = 0.5


def default_keys_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "grabdesk" / "keys"


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def create_pair(directory: Path, name: str) -> tuple[Path, Path]:
    """Write NAME.key (public) and NAME.key_secret (secret, mode 0600)."""
    _private_dir(directory)
    public, secret = Path(directory, f"{name}.key"), Path(directory, f"{name}.key_secret")
    if public.exists() or secret.exists():
        raise KeyFileError(f"{public} already exists; remove it first if you mean to replace it")
    old = os.umask(0o077)  # the secret is never readable by others, not even for a moment
    try:
        public_path, secret_path = zmq.auth.create_certificates(str(directory), name)
    finally:
        os.umask(old)
    os.chmod(secret_path, 0o600)
    os.chmod(public_path, 0o644)
    return Path(public_path), Path(secret_path)


@dataclass(frozen=True)
class Enrolled:
    role: str
    who: str
    enrolled_at: float


class Enrolment:
    """Who may connect, as which role and identity. Re-read when the file changes."""

    def __init__(self, keys_dir: Path):
        self.path = Path(keys_dir) / ENROLLED_FILE
        self._lock = threading.Lock()
        self._by_key: dict[str, Enrolled] = {}
        self._mtime = None
        self._checked = 0.0
        self.reload(force=True)

    def reload(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < RELOAD_EVERY_S:
            return
        self._checked = now
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            mtime = None
        if mtime == self._mtime and not force:
            return
        entries = read_enrolled(self.path)
        with self._lock:
            self._by_key = entries
            self._mtime = mtime

    def lookup(self, z85_key: str) -> Enrolled | None:
        self.reload()
        with self._lock:
            return self._by_key.get(z85_key)


def read_enrolled(path: Path) -> dict[str, Enrolled]:
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text())
        return {key: Enrolled(e["role"], e["who"], float(e.get("enrolled_at", 0))) for key, e in raw.items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeyFileError(f"{path} is not a valid enrolment file: {exc}") from exc


def write_enrolled(path: Path, entries: dict[str, Enrolled]) -> None:
    """Atomic replace, so the broker never reads half a file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({k: {"role": e.role, "who": e.who, "enrolled_at": e.enrolled_at}
                               for k, e in sorted(entries.items(), key=lambda kv: (kv[1].role, kv[1].who))},
                              indent=2) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def enrol(keys_dir: Path, public_key_file: Path, role: str, who: str) -> Enrolled:
    if role not in ROLES:
        raise KeyFileError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not who or any(c.isspace() for c in who):
        raise KeyFileError("the identity must be a non-empty word (an agent id, a supervisor name ...)")
    key = read_public(public_key_file).decode("ascii")
    path = Path(keys_dir) / ENROLLED_FILE
    _private_dir(Path(keys_dir))
    entries = read_enrolled(path)
    existing = entries.get(key)
    if existing is not None and (existing.role, existing.who) != (role, who):
        raise KeyFileError(f"this key is already enrolled as {existing.role} {existing.who}; "
                        "a key belongs to one identity (revoke it first)")
    for other_key, e in entries.items():
        if (e.role, e.who) == (role, who) and other_key != key:
            raise KeyFileError(f"{role} {who} is already enrolled with another key; revoke it first")
    entries[key] = Enrolled(role, who, time.time())
    write_enrolled(path, entries)
    return entries[key]


def revoke(keys_dir: Path, who: str | None = None, public_key_file: Path | None = None) -> list[Enrolled]:
    path = Path(keys_dir) / ENROLLED_FILE
    entries = read_enrolled(path)
    if public_key_file is not None:
        gone = [read_public(public_key_file).decode("ascii")]
    else:
        gone = [k for k, e in entries.items() if e.who == who]
    removed = [entries.pop(k) for k in gone if k in entries]
    if not removed:
        raise KeyFileError(f"nothing enrolled matches {who or public_key_file}")
    write_enrolled(path, entries)
    return removed


class _Provider:
    """pyzmq's credentials-provider hook (runs on the ZAP thread): enrolled keys only."""

    def __init__(self, enrolment: Enrolment, refused: queue.SimpleQueue):
        self.enrolment = enrolment
        self.refused = refused

    def callback(self, domain: str, key: bytes) -> bool:
        z85_key = key.decode("ascii")
        ok = self.enrolment.lookup(z85_key) is not None
        if not ok:
            self.refused.put(z85_key)
        return ok


class CurveAuthenticator:
    """What the broker's sockets need for Curve: server keys, ZAP, identities."""

    def __init__(self, keys_dir: Path):
        self.keys_dir = Path(keys_dir)
        cert = self.keys_dir / f"{BROKER_CERT}.key_secret"
        if not cert.exists():
            raise KeyFileError(f"no broker key pair in {self.keys_dir}; create one with "
                            f"'grabdesk keys init --dir {self.keys_dir}'")
        self.public, self.secret = read_pair(cert)
        self.enrolment = Enrolment(self.keys_dir)
        #: public keys ZAP refused, for the loop to audit
        self.refused: queue.SimpleQueue = queue.SimpleQueue()
        self._zap: ThreadAuthenticator | None = None

    def start(self, ctx: zmq.Context) -> None:
        # pyzmq's documented default User-Id is the client key in z85, which identity_of reads
        self._zap = ThreadAuthenticator(ctx)
        self._zap.start()
        self._zap.configure_curve_callback(domain="*", credentials_provider=_Provider(self.enrolment, self.refused))

    def configure_server(self, sock: zmq.Socket) -> None:
        """Before bind: this socket is a Curve server with the broker's keys."""
        if self._zap is None:
            self.start(sock.context)
        sock.curve_secretkey = self.secret
        sock.curve_publickey = self.public
        sock.curve_server = True

    def identity_of(self, frame: zmq.Frame) -> tuple[str, str]:
        """(role, who) the frame's key is enrolled as; ("revoked", key) once it is not."""
        key = frame.get("User-Id")
        enrolled = self.enrolment.lookup(key)
        if enrolled is None:
            return ("revoked", key[:8])
        return (enrolled.role, enrolled.who)

    def stop(self) -> None:
        if self._zap is not None:
            self._zap.stop()
            self._zap = None

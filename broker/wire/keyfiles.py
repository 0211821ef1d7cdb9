"""Reading CurveZMQ key files: what every client needs to connect with Curve.

The files are pyzmq certificate files (``zmq.auth.create_certificates``):
``NAME.key`` holds the public key, ``NAME.key_secret`` both keys; the
broker's side (creating pairs, enrolment, the ZAP policy) is in
``broker.service.keys``.
"""
from __future__ import annotations

from pathlib import Path

import zmq.auth

from broker.wire.client import CurveKeys


class KeyFileError(RuntimeError):
    """A key problem with a sentence an operator can act on."""


def read_public(path: Path) -> bytes:
    try:
        public, _ = zmq.auth.load_certificate(str(path))
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"cannot read a public key from {path}: {exc}") from exc
    if not public:
        raise KeyFileError(f"{path} holds no public key")
    return public


def read_pair(path: Path) -> tuple[bytes, bytes]:
    try:
        public, secret = zmq.auth.load_certificate(str(path))
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"cannot read a key pair from {path}: {exc}") from exc
    if not secret:
        raise KeyFileError(f"{path} holds no secret key (use the .key_secret file)")
    return public, secret


def load_client_keys(server_key: Path, public_key: Path, secret_key: Path):
    """Key material for a client (see broker.wire.client.CurveKeys)."""
    server_public = read_public(server_key)
    public, secret = read_pair(secret_key)
    if read_public(public_key) != public:
        raise KeyFileError(f"{public_key} and {secret_key} are not the same key pair")
    return CurveKeys(server_public=server_public, public=public, secret=secret)

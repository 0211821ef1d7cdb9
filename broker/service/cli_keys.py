"""``grabdesk keys``: CurveZMQ key pairs and enrolment (see docs/security.md).

    grabdesk keys init                       broker key pair in the keys folder
    grabdesk keys new NAME [--out DIR]       a client key pair NAME.key / NAME.key_secret
    grabdesk keys enrol FILE.key --role agent --who a001
    grabdesk keys revoke --who a001          (or --key FILE.key)
    grabdesk keys list

Enrolment changes apply to a running broker within a second: a revoked key's
next command is refused, and so is its next connection.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import get_args

from broker.wire.protocol import Role


def add_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser("keys", help="CurveZMQ keys: create, enrol, revoke, list",
                            description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", metavar="DIR", help="keys folder (default ~/.config/grabdesk/keys)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.add_parser("init", help="create the broker's key pair")
    new = actions.add_parser("new", help="create a client key pair")
    new.add_argument("name")
    new.add_argument("--out", metavar="DIR", help="where to write it (default: the keys folder's clients/)")
    enrol = actions.add_parser("enrol", help="allow a client key, bound to one role and identity")
    enrol.add_argument("public_key", metavar="FILE.key")
    enrol.add_argument("--role", required=True, choices=get_args(Role))
    enrol.add_argument("--who", required=True, help="agent id, supervisor name, gateway name ...")
    revoke = actions.add_parser("revoke", help="withdraw a client's key")
    group = revoke.add_mutually_exclusive_group(required=True)
    group.add_argument("--who")
    group.add_argument("--key", metavar="FILE.key")
    actions.add_parser("list", help="who is enrolled")
    parser.set_defaults(func=run)
    return parser


def run(args) -> int:
    from broker.service.keys import (
        BROKER_CERT, ENROLLED_FILE, KeyFileError, create_pair, default_keys_dir, enrol, read_enrolled, revoke,
    )

    keys_dir = Path(args.dir).expanduser() if args.dir else default_keys_dir()
    try:
        if args.action == "init":
            public, secret = create_pair(keys_dir, BROKER_CERT)
            print(f"broker key pair: {public} (give this public key to clients), {secret} (keep secret)")
        elif args.action == "new":
            out = Path(args.out).expanduser() if args.out else keys_dir / "clients"
            public, secret = create_pair(out, args.name)
            print(f"client key pair: {public} (enrol it), {secret} (give only to {args.name})")
        elif args.action == "enrol":
            e = enrol(keys_dir, Path(args.public_key), args.role, args.who)
            print(f"enrolled {e.role} {e.who}")
        elif args.action == "revoke":
            for e in revoke(keys_dir, who=args.who, public_key_file=Path(args.key) if args.key else None):
                print(f"revoked {e.role} {e.who}")
        elif args.action == "list":
            entries = read_enrolled(keys_dir / ENROLLED_FILE)
            if not entries:
                print(f"nobody is enrolled in {keys_dir}")
            for key, e in sorted(entries.items(), key=lambda kv: (kv[1].role, kv[1].who)):
                when = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.enrolled_at))
                print(f"{e.role:<10} {e.who:<20} key {key[:8]}…  since {when}")
        else:
            print("grabdesk keys: choose an action: init, new, enrol, revoke, list", file=sys.stderr)
            return 2
    except KeyFileError as exc:
        print(f"grabdesk keys: {exc}", file=sys.stderr)
        return 2
    return 0

"""``python -m gui operators add|list|remove|rotate`` and ``python -m gui keys add|list|revoke``.

Operators may acknowledge on the wall; keys let one TV or one program read it.

An operator is a person (or a program) with a name, an optional agent id and
a role: ``agent`` acknowledges, ``lead`` also clears other people's acks and
reads the audit (``/ack-log``), ``relay`` (a program such as the Slack bot)
writes only for another operator, named in each request. ``add`` and ``rotate`` print a new token as
the last line, once; only its hash is kept. The running dashboard sees every
change at once. On an installed box run it as the service user:
``sudo -u ticketdash /opt/ticketdash/.venv/bin/python -m gui operators add "Ada Lovelace"``.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys

from ticketdash import cli, timefmt
from ticketdash.text import one_line
from gui.access import LEGACY
from gui.database import ROLES, Database


def main(group: str, argv: list[str]) -> int:
    """*group*: "operators" or "keys"."""
    parser = argparse.ArgumentParser(prog=f"python -m gui {group}", description=__doc__.splitlines()[0])
    common = argparse.ArgumentParser(add_help=False)  # --config before or after the command's arguments
    common.add_argument("--config", help=cli.CONFIG_HELP)
    commands = parser.add_subparsers(dest="command", required=True)
    if group == "keys":
        helps = {"add": "a new key for one TV or program; prints it once",
                 "revoke": "that TV or program can no longer read; its cookies end"}
    else:
        helps = {"add": "a new operator; prints its token once",
                 "remove": "the operator can no longer write; their sign-ins end",
                 "rotate": "a new token; the old one and its sign-ins stop working"}
    for command, text in helps.items():
        commands.add_parser(command, help=text, parents=[common]).add_argument("name")
    commands.add_parser("list", help="every name (never a token or key)", parents=[common])
    if group == "operators":
        add = commands.choices["add"]
        add.add_argument("--agent-id", type=int, help="the helpdesk's id of this agent (their own tickets)")
        add.add_argument("--role", choices=ROLES, default="agent")
    args = parser.parse_args(argv)
    config = cli.configuration(args.config)
    database = Database(config.gui.database, config.gui.acks_file)
    try:
        if args.command == "list":
            for line in _listed(group, database):
                print(line)
            return 0
        name = one_line(args.name)
        if not name or len(name) > 80 or (group == "keys" and name == LEGACY):
            return _refuse(group, f"a name is 1 to 80 characters on one line (and not {LEGACY!r} for a key)")
        return (_keys if group == "keys" else _operators)(args, name, database)
    finally:
        database.close()


def _listed(group: str, database: Database) -> list[str]:
    if group == "keys":
        return [f"{device}\tsince {created}" + (f"\trevoked {revoked}" if revoked else "")
                for device, created, revoked in database.devices()]
    return [f"{o.name}\t{o.role}{f' (agent id {o.agent_id})' if o.agent_id is not None else ''}\tsince {created}"
            for o, created in database.operators()]


def _keys(args: argparse.Namespace, name: str, database: Database) -> int:
    """One read-only key per TV or program, each revocable alone."""
    if args.command == "add":
        try:
            key = database.add_device(name, timefmt.now())
        except sqlite3.IntegrityError:
            return _refuse("keys", f"{name!r} exists already (revoke it, then add it again)")
        return _shown_once(f"added a key for {name}; shown only now (kiosk.sh reads it from a file: docs/kiosk.md):",
                           key)
    if not database.revoke_device(name, timefmt.now()):
        return _refuse("keys", f"no key named {name!r}")
    print(f"revoked {name}: it can no longer read the wall")
    return 0


def _operators(args: argparse.Namespace, name: str, database: Database) -> int:
    if args.command == "add":
        try:
            token = database.add_operator(name, args.agent_id, args.role, timefmt.now())
        except sqlite3.IntegrityError:
            return _refuse("operators", f"{name!r} exists already (rotate gives a new token)")
        return _shown_once(f"added {name} ({args.role}); the token, shown only now:", token)
    if args.command == "rotate":
        token = database.rotate(name)
        if token is None:
            return _refuse("operators", f"no operator {name!r}")
        return _shown_once(f"new token for {name}; the old one no longer works:", token)
    if not database.remove_operator(name):
        return _refuse("operators", f"no operator {name!r}")
    print(f"removed {name}")
    return 0


def _shown_once(intro: str, secret: str) -> int:
    """The secret as the last line: what a script takes, and the only time anyone sees it."""
    print(intro)
    print(secret)
    return 0


def _refuse(group: str, why: str) -> int:
    print(f"{group}: {why}", file=sys.stderr)
    return 2

"""``python -m gui operators add|list|remove|rotate``: who may acknowledge on the wall.

An operator is a person (or a program) with a name, an optional agent id and
a role: ``agent`` acknowledges, ``lead`` also clears other people's acks and
reads the audit (``/ack-log``). ``add`` and ``rotate`` print a new token as
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
from gui.database import ROLES, Database


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m gui operators", description=__doc__.splitlines()[0])
    common = argparse.ArgumentParser(add_help=False)  # --config before or after the command's arguments
    common.add_argument("--config", help=cli.CONFIG_HELP)
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="a new operator; prints its token once", parents=[common])
    add.add_argument("name")
    add.add_argument("--agent-id", type=int, help="the helpdesk's id of this agent (their own tickets)")
    add.add_argument("--role", choices=ROLES, default="agent")
    commands.add_parser("list", help="every operator (never a token)", parents=[common])
    for name, text in (("remove", "the operator can no longer write; their sign-ins end"),
                       ("rotate", "a new token; the old one and its sign-ins stop working")):
        command = commands.add_parser(name, help=text, parents=[common])
        command.add_argument("name")
    args = parser.parse_args(argv)
    config = cli.configuration(args.config)
    database = Database(config.gui.database, config.gui.acks_file)
    try:
        return _run(args, database)
    finally:
        database.close()


def _run(args: argparse.Namespace, database: Database) -> int:
    if args.command == "list":
        for operator, created in database.operators():
            agent = f" (agent id {operator.agent_id})" if operator.agent_id is not None else ""
            print(f"{operator.name}\t{operator.role}{agent}\tsince {created}")
        return 0
    name = one_line(args.name)
    if not name or len(name) > 80:
        print("operators: a name is 1 to 80 characters on one line", file=sys.stderr)
        return 2
    if args.command == "add":
        try:
            token = database.add_operator(name, args.agent_id, args.role, timefmt.now())
        except sqlite3.IntegrityError:
            print(f"operators: {name!r} exists already (rotate gives a new token)", file=sys.stderr)
            return 2
        print(f"added {name} ({args.role}); the token, shown only now:")
        print(token)
        return 0
    if args.command == "rotate":
        token = database.rotate(name)
        if token is None:
            print(f"operators: no operator {name!r}", file=sys.stderr)
            return 2
        print(f"new token for {name}; the old one no longer works:")
        print(token)
        return 0
    if not database.remove_operator(name):
        print(f"operators: no operator {name!r}", file=sys.stderr)
        return 2
    print(f"removed {name}")
    return 0

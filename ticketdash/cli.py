"""Every command's start: its arguments, ``--config``, and the checked configuration, or exit 2."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Mapping

from ticketdash.config import Config, ConfigError, load

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "ticketdash.toml"
CONFIG_ENV = "TICKETDASH_CONFIG"


def command_line(parser: argparse.ArgumentParser, argv: list[str] | None) -> tuple[argparse.Namespace, Config]:
    """Every command's start: its arguments plus --config, and the configuration it names.

    An unusable configuration ends the program here: one line on stderr, exit status 2.
    """
    parser.add_argument("--config", help="config file (default: $TICKETDASH_CONFIG or config/ticketdash.toml)")
    args = parser.parse_args(argv)
    try:
        return args, load(config_path(args.config, os.environ))
    except ConfigError as error:
        print(error, file=sys.stderr)
        raise SystemExit(2) from None


def config_path(argument: str | None, environ: Mapping[str, str]) -> Path:
    """The config file: --config, else $TICKETDASH_CONFIG, else config/ticketdash.toml."""
    if argument:
        return Path(argument)
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV])
    return DEFAULT_CONFIG

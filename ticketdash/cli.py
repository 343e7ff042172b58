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
CONFIG_HELP = "config file (default: $TICKETDASH_CONFIG or config/ticketdash.toml)"


def command_line(parser: argparse.ArgumentParser, argv: list[str] | None) -> tuple[argparse.Namespace, Config]:
    """Every command's start: its arguments plus --config, and the configuration it names.

    An unusable configuration ends the program here: one line on stderr, exit status 2.
    """
    parser.add_argument("--config", help=CONFIG_HELP)
    args = parser.parse_args(argv)
    return args, configuration(args.config)


def configuration(argument: str | None) -> Config:
    """The configuration that ``--config`` (or its default) names; exit status 2 when it is unusable."""
    try:
        return load(config_path(argument, os.environ))
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

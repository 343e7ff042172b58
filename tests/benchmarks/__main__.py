"""``python -m tests.benchmarks [watcher gui blinky alerts ack slow mqtt]``: run benchmarks and print their tables."""

from __future__ import annotations

import importlib
import sys
import tempfile
from pathlib import Path

from tests import helpers

NAMES = ["watcher", "gui", "blinky", "alerts", "ack", "slow", "mqtt"]


def main(argv: list[str]) -> int:
    unknown = [name for name in argv if name not in NAMES]
    if unknown:
        print(f"unknown benchmark {unknown[0]!r}; known: {', '.join(NAMES)}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="ticketdash-bench-") as work:
        helpers.LOGS.append(Path(work))  # the daemons' logs, as in a test
        tempfile.tempdir = work  # every benchmark's own folders too: nothing is left behind
        try:
            for name in argv or NAMES:
                module = importlib.import_module(f"tests.benchmarks.bench_{name}")
                print(module.main(), flush=True)
        finally:
            tempfile.tempdir = None
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

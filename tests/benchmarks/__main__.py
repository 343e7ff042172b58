"""``python -m tests.benchmarks [watcher gui blinky alerts]``: run benchmarks and print their tables."""

from __future__ import annotations

import importlib
import sys

NAMES = ["watcher", "gui", "blinky", "alerts"]


def main(argv: list[str]) -> int:
    for name in argv or NAMES:
        if name not in NAMES:
            print(f"unknown benchmark {name!r}; known: {', '.join(NAMES)}", file=sys.stderr)
            return 2
        module = importlib.import_module(f"tests.benchmarks.bench_{name}")
        print(module.main(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

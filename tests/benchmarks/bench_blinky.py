"""Blinky: ticket change -> light write latency, CPU per idle hour with 1,000 tickets, RSS.

The real ``python -m blinky`` runs with the fake hid module (it records each
write to a file); a real watchdog observer sees the ticket files change.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from pathlib import Path

from tests.benchmarks.common import idle_cpu_per_hour, latency, quiet_helpdesk, stop_and_peak_rss_mb, table
from tests.helpers import FakeLights, iso_in, put_ticket, site_config, start_module, ticket, wait_for

TICKETS = 1_000
CHANGES = 50
IDLE_SECONDS = float(os.environ.get("BENCH_IDLE_SECONDS", 180))
RED_STROBE = bytes.fromhex("00 03 ff ff 00 00 14 00 00")
GREEN = bytes.fromhex("00 01 ff 00 ff 00 00 00 00")


def main() -> str:
    root = Path(tempfile.mkdtemp(prefix="bench-blinky-"))
    folder = quiet_helpdesk(root, TICKETS)
    lights = FakeLights(root / "hid")
    lights.plug()
    config = site_config(root / "config", blinky={"device": "luxafor"})
    process = start_module("blinky", "--config", str(config), env=lights.env())
    log = lights.root / "writes.jsonl"
    try:
        wait_for(lambda: lights.writes() and lights.writes()[-1] == GREEN, 60, "green")
        latencies = []
        for i in range(CHANGES):
            before = log.stat().st_size
            breach = i % 2 == 0
            expected = RED_STROBE if breach else GREEN
            began = time.perf_counter()
            if breach:
                put_ticket(folder, ticket(TICKETS + 1, stats={"first_responded_at": None}, fr_due_by=iso_in(minutes=-5)))
            else:
                (folder / f"{TICKETS + 1}.json").unlink()
            wait_for(lambda b=before, e=expected: log.stat().st_size > b and lights.writes()[-1] == e, 10, "the light")
            latencies.append(time.perf_counter() - began)
            time.sleep(0.05)

        per_hour = idle_cpu_per_hour(process.pid, folder, IDLE_SECONDS)
    finally:
        status, peak = stop_and_peak_rss_mb(process, signal.SIGTERM)
    rows = [
        ["ticket file change -> light write (50 changes)", latency(latencies), "median <= 300 ms"],
        [f"CPU per idle hour, {TICKETS:,} tickets (measured {IDLE_SECONDS:.0f} s)", f"{per_hour:.2f} s", "<= 2 s"],
        [f"peak RSS (exit {status})", f"{peak:.1f} MB", "<= 50 MB"],
    ]
    return table("Blinky (python -m blinky, fake hid, real watchdog)", ["what", "measured", "target"], rows)


if __name__ == "__main__":
    print(main())

"""Alerts: ticket file change -> message at a real receiver, CPU per idle hour with 1,000 tickets, RSS.

The real ``python -m alerts`` runs with one route to a local HTTP receiver
behind Apprise's json:// URL; a real watchdog observer sees the files change.
Breaches come 1.1 s apart, so the per-channel pace (1 message a second, the
default, as Slack allows) never holds one back.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from pathlib import Path

from tests.benchmarks.common import idle_cpu_per_hour, latency, quiet_helpdesk, stop_and_peak_rss_mb, table
from tests.helpers import iso_in, put_ticket, site_config, start_module, ticket, wait_for
from tests.receiver import Receiver

TICKETS = 1_000
BREACHES = 50
IDLE_SECONDS = float(os.environ.get("BENCH_IDLE_SECONDS", 180))


def main() -> str:
    root = Path(tempfile.mkdtemp(prefix="bench-alerts-"))
    folder = quiet_helpdesk(root, TICKETS)
    receiver = Receiver()
    config = site_config(root / "config")
    with config.open("a") as f:
        f.write(f'\n[[alerts.routes]]\nurls = ["{receiver.url()}"]\nstates = ["fr_overdue", "overdue"]\n')
    process = start_module("alerts", "--config", str(config))
    try:
        wait_for(lambda: (root / "alerts-tickets" / "alerts.json").exists(), 60, "the daemon")
        latencies = []
        for i in range(BREACHES):
            count = len(receiver.messages())
            began = time.monotonic()
            put_ticket(folder, ticket(TICKETS + 1 + i, stats={"first_responded_at": None},
                                      fr_due_by=iso_in(minutes=-5)))
            wait_for(lambda c=count: len(receiver.messages()) > c, 10, "the message")
            latencies.append(receiver.arrived[-1] - began)
            time.sleep(max(0.0, 1.1 - (time.monotonic() - began)))

        per_hour = idle_cpu_per_hour(process.pid, folder, IDLE_SECONDS)
    finally:
        status, peak = stop_and_peak_rss_mb(process, signal.SIGTERM)
        receiver.close()
    rows = [
        [f"ticket file change -> message at the receiver ({BREACHES} breaches)",
         latency(latencies), "median <= 1 s"],
        [f"CPU per idle hour, {TICKETS:,} tickets (measured {IDLE_SECONDS:.0f} s)", f"{per_hour:.2f} s", "<= 2 s"],
        [f"peak RSS (exit {status})", f"{peak:.1f} MB", "<= 60 MB"],
    ]
    return table("Alerts (python -m alerts, json:// to a local receiver, real watchdog)",
                 ["what", "measured", "target"], rows)


if __name__ == "__main__":
    print(main())

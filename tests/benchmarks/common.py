"""Helpers shared by the benchmarks: tables, percentiles, child processes' peak memory."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any, Sequence


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [list(map(str, headers))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    line = lambda row: "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"  # noqa: E731
    out = [f"\n{title}\n", line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    return "\n".join(out + [line(r) for r in cells[1:]])


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def latency(seconds: Sequence[float]) -> str:
    """"median 120 ms, p95 135 ms" for a table cell."""
    return f"median {seconds_ms(median(seconds))}, p95 {seconds_ms(percentile(seconds, 95))}"


def seconds_ms(value: float) -> str:
    return f"{value * 1000:.0f} ms"


def stop_and_peak_rss_mb(process: subprocess.Popen[Any], signal_number: int) -> tuple[int, float]:
    """Signal the child, reap it, and return (exit status, its peak RSS in MB).

    The peak is the kernel's VmHWM for the program itself, read just before the
    signal: wait4's ru_maxrss would also count the instant between fork and exec,
    when the child still shares the benchmark's own (much larger) memory.
    """
    status = Path(f"/proc/{process.pid}/status").read_text()
    peak_kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
    process.send_signal(signal_number)
    return process.wait(timeout=30), peak_kb / 1024


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a running process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def quiet_helpdesk(root: Path, tickets: int) -> Path:
    """A tickets folder of *tickets* on-track tickets and a fresh heartbeat."""
    from tests.helpers import iso_in, put_ticket, ticket, write_heartbeat

    folder = root / "tickets"
    folder.mkdir()
    write_heartbeat(folder)
    for n in range(1, tickets + 1):
        put_ticket(folder, ticket(n, due_by=iso_in(days=n % 20 + 2), updated_at=iso_in(minutes=-1),
                                  priority=n % 3 + 1))
    return folder


def idle_cpu_per_hour(pid: int, folder: Path, seconds: float) -> float:
    """CPU seconds per hour of a daemon while only the watcher's heartbeat changes (every 60 s)."""
    from tests.helpers import write_heartbeat

    time.sleep(1)
    start_cpu, start = cpu_seconds(pid), time.monotonic()
    next_beat = start + 60
    while time.monotonic() - start < seconds:
        if time.monotonic() >= next_beat:
            write_heartbeat(folder)
            next_beat += 60
        time.sleep(0.5)
    return (cpu_seconds(pid) - start_cpu) * 3600 / (time.monotonic() - start)

"""Dashboard: /api/board latency (changed and 304), throughput through waitress, change-to-API time, RSS.

The real ``python -m gui`` serves a folder of 1,000 and then 5,000 ticket files, then a wall of two
helpdesks of 2,500 each.
"""

from __future__ import annotations

import http.client
import tempfile
import threading
import time
from pathlib import Path

from tests.benchmarks.common import median, percentile, table
from tests.helpers import GuiServer, iso_in, put_ticket, ticket, write_heartbeat, wait_for

SIZES = [1_000, 5_000]
CLIENTS = 8
THROUGHPUT_SECONDS = 5.0


class Client:
    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def get(self, etag: str | None = None, gzip: bool = False) -> tuple[int, str, bytes, float]:
        headers = {"If-None-Match": etag} if etag else {}
        if gzip:
            headers["Accept-Encoding"] = "gzip"  # as every browser sends
        began = time.perf_counter()
        self.connection.request("GET", "/api/board", headers=headers)
        response = self.connection.getresponse()
        body = response.read()
        return response.status, response.getheader("ETag", ""), body, time.perf_counter() - began


def rss_mb(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def run_size(count: int, helpdesks: int = 1) -> list[list[str]]:
    """*count* tickets per helpdesk, on a wall of *helpdesks* (their ids collide, as they may)."""
    root = Path(tempfile.mkdtemp(prefix="bench-gui-"))
    names = [f"hd{n}" for n in range(helpdesks)] if helpdesks > 1 else []
    sections = {"helpdesks": {name: f"../tickets-{name}" for name in names}} if names else {}
    server = GuiServer(root, gui={"threads": 8, "refresh_seconds": 2, "rescan_seconds": 30}, **sections)
    folders = [root / f"tickets-{name}" for name in names] or [server.tickets]
    for folder in folders:
        folder.mkdir(exist_ok=True)
        for n in range(1, count + 1):
            put_ticket(folder, ticket(n, due_by=iso_in(hours=n % 72 + 1), priority=n % 4 + 1,
                                      subject=f"Generated ticket {n} about something " * 2,
                                      description_text="Lorem ipsum dolor sit amet. " * 20))
        write_heartbeat(folder, last_success_at=iso_in(seconds=0))
    label = f"{helpdesks} x {count:,}" if names else f"{count:,}"
    count *= len(folders)
    server.start()
    client = Client(server.port)
    try:
        wait_for(lambda: client.get()[2].count(b'"id":') >= count, 60, "all tickets loaded")
        # A board rebuilt after a change, and the time from the write to the new board at the API.
        changed, visible = [], []
        status, etag, body, _ = client.get()
        size = len(body)
        for i in range(30):
            written = time.perf_counter()
            put_ticket(folders[0], ticket(1 + i, subject=f"changed {i}", due_by=iso_in(hours=5)))
            while True:
                status, new_etag, body, took = client.get(etag)
                if status == 200:
                    break
                time.sleep(0.002)
            visible.append(time.perf_counter() - written)
            changed.append(took)
            etag = new_etag
        not_modified = [client.get(etag)[3] for _ in range(300)]
        assert client.get(etag)[0] == 304

        kinds = ("full", "gzip", "304")
        results: dict[str, list[int]] = {kind: [0] * CLIENTS for kind in kinds}
        gzip_size = len(client.get(gzip=True)[2])

        def hammer(slot: int, kind: str, until: float) -> None:
            mine = Client(server.port)
            while time.perf_counter() < until:
                status, _, _, _ = mine.get(etag if kind == "304" else None, gzip=kind == "gzip")
                results[kind][slot] += status in (200, 304)

        rates = {}
        for kind in kinds:
            until = time.perf_counter() + THROUGHPUT_SECONDS
            threads = [threading.Thread(target=hammer, args=(s, kind, until)) for s in range(CLIENTS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            rates[kind] = sum(results[kind]) / THROUGHPUT_SECONDS
        rss, peak = rss_mb(server.process.pid)
    finally:
        server.stop()
    ms = lambda s: f"{s * 1000:.1f} ms"  # noqa: E731
    return [
        [label, "board after a change: median / p95", f"{ms(median(changed))} / {ms(percentile(changed, 95))}", "<= 50 ms median"],
        [label, "304 Not Modified: median / p95", f"{ms(median(not_modified))} / {ms(percentile(not_modified, 95))}", "<= 5 ms median"],
        [label, f"requests/s, {CLIENTS} clients, full board ({size / 1e6:.2f} MB)", f"{rates['full']:.0f}", ">= 200"],
        [label, f"requests/s, {CLIENTS} clients, full board gzipped ({gzip_size / 1e6:.2f} MB)", f"{rates['gzip']:.0f}", ">= 200"],
        [label, f"requests/s, {CLIENTS} clients, conditional (304)", f"{rates['304']:.0f}", ""],
        [label, "file write -> new board at the API: median / max", f"{ms(median(visible))} / {ms(max(visible))}", "<= 1 s"],
        [label, "server RSS now / peak", f"{rss:.0f} MB / {peak:.0f} MB", "<= 150 MB"],
    ]


def main() -> str:
    rows = [row for count in SIZES for row in run_size(count)] + run_size(2_500, helpdesks=2)
    return table("Dashboard (python -m gui, waitress, 8 threads)", ["ticket files", "what", "measured", "target"], rows)


if __name__ == "__main__":
    print(main())

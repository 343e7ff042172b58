"""A fake Slack on 127.0.0.1: the Web API calls the bot makes, and a Socket Mode WebSocket.

- ``POST /api/apps.connections.open`` (app token) answers a ``ws://`` URL of
  its own WebSocket server, which says ``hello`` and then sends what `click`
  queues: an ``interactive`` envelope with a ``block_actions`` payload, as
  Slack does when someone presses a button. It keeps every envelope id the
  app acknowledged.
- ``chat.postMessage`` and ``chat.postEphemeral`` (bot token) are recorded.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import websockets
from websockets.asyncio.server import ServerConnection, serve


class FakeSlack:
    def __init__(self, app_token: str, bot_token: str) -> None:
        self.app_token, self.bot_token = app_token, bot_token
        self.posted: list[dict[str, Any]] = []
        self.ephemeral: list[dict[str, Any]] = []
        self.acknowledged: list[str] = []
        self.connections = 0
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.outgoing: asyncio.Queue[str] | None = None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run_socket, daemon=True)
        self.thread.start()
        self.ready.wait(10)
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.api_url = f"http://127.0.0.1:{self.http.server_address[1]}/api/"

    # -- what a test does -------------------------------------------------

    def click(self, user: str, value: str, action_id: str = "ticketdash_on_it") -> str:
        """Someone presses a button: the envelope goes down the socket; its id."""
        envelope = str(uuid.uuid4())
        payload = {"type": "block_actions", "user": {"id": user, "username": user.lower()},
                   "channel": {"id": "C0ALERTS1"}, "actions": [{"action_id": action_id, "type": "button", "value": value}]}
        message = json.dumps({"envelope_id": envelope, "type": "interactive", "accepts_response_payload": False,
                              "payload": payload})
        assert self.outgoing is not None
        self.loop.call_soon_threadsafe(self.outgoing.put_nowait, message)
        return envelope

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()

        async def close() -> None:
            self.server.close()
            await self.server.wait_closed()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    # -- the WebSocket ----------------------------------------------------

    def _run_socket(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.outgoing = asyncio.Queue()

        async def start() -> None:
            self.server = await serve(self._session, "127.0.0.1", 0)
            self.ws_port = self.server.sockets[0].getsockname()[1]
            self.ready.set()

        self.loop.run_until_complete(start())
        self.loop.run_forever()

    async def _session(self, socket: ServerConnection) -> None:
        with self.lock:
            self.connections += 1
        await socket.send(json.dumps({"type": "hello", "num_connections": 1,
                                      "debug_info": {"host": "fake"}, "connection_info": {"app_id": "A0FAKE"}}))

        async def acks() -> None:
            try:
                async for text in socket:
                    data = json.loads(text)
                    if isinstance(data, dict) and "envelope_id" in data:
                        with self.lock:
                            self.acknowledged.append(data["envelope_id"])
            except websockets.ConnectionClosed:
                pass  # the app went away (it stopped, or reconnects)

        reader = asyncio.ensure_future(acks())
        try:
            while not reader.done():
                assert self.outgoing is not None
                getting = asyncio.ensure_future(self.outgoing.get())
                done, _ = await asyncio.wait({getting, reader}, return_when=asyncio.FIRST_COMPLETED)
                if getting in done:
                    await socket.send(getting.result())
                else:
                    getting.cancel()
        except websockets.ConnectionClosed:
            pass
        finally:
            reader.cancel()

    # -- the Web API ------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if "json" in (self.headers.get("Content-Type") or ""):
                    body = json.loads(raw or b"{}")
                else:
                    body = dict(parse_qsl(raw.decode()))
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                method = self.path.removeprefix("/api/")
                if method == "apps.connections.open":
                    answer = ({"ok": True, "url": f"ws://127.0.0.1:{fake.ws_port}/link"} if token == fake.app_token
                              else {"ok": False, "error": "invalid_auth"})
                elif token != fake.bot_token:
                    answer = {"ok": False, "error": "invalid_auth"}
                elif method in ("chat.postMessage", "chat.postEphemeral"):
                    for key in ("blocks",):
                        if isinstance(body.get(key), str):
                            body[key] = json.loads(body[key])
                    with fake.lock:
                        (fake.posted if method == "chat.postMessage" else fake.ephemeral).append(body)
                    answer = {"ok": True, "channel": body.get("channel"), "ts": f"{len(fake.posted)}.000100"}
                else:
                    answer = {"ok": False, "error": "unknown_method"}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

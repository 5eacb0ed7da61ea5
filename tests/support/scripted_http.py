"""A loopback HTTP server that answers from a script (status, headers, body, delay) and logs each request with the
time of a test clock: for answers the fake Strava API does not give on demand (403 "inactive", a 429 mid-window)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    status: int = 200
    body: object = field(default_factory=list)  # JSON-encoded unless bytes
    headers: dict = field(default_factory=dict)  # a value None leaves that header out
    delay_s: float = 0.0  # real seconds before answering (a slow server)


@dataclass
class Seen:
    method: str
    path: str
    at: float  # the test clock's time when the request arrived
    body: bytes = b""


class ScriptedServer:
    """Answers requests in order from `script`; once it is used up, every request gets `then`."""

    def __init__(self, script: list[Answer], clock, then: Answer | None = None) -> None:
        self.script = list(script)
        self.then = then or Answer()
        self.clock = clock
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with server._lock:
                    server.seen.append(Seen(self.command, self.path, server.clock.now(), body))
                    answer = server.script.pop(0) if server.script else server.then
                if answer.delay_s:
                    time.sleep(answer.delay_s)
                data = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Length", str(len(data)))
                    # an answer's own Content-Type replaces the JSON one; None sends none at all
                    for name, value in {"Content-Type": "application/json; charset=utf-8", **answer.headers}.items():
                        if value is not None:
                            self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): expected in the slow-answer tests

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

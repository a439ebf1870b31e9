"""A real local HTTP server for tests: records every request, answers from a script.

Used as a stand-in for Shahrbin and for Twilio's REST API (real sockets, in-process
thread, 127.0.0.1 only). Each scripted ``Answer`` is used once; the last one repeats.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    status: int = 200
    body: Any = field(default_factory=dict)  # dict/list -> JSON; str -> as is
    delay: float = 0.0  # seconds before answering (a timeout when > client timeout)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class RecordingServer:
    """``with RecordingServer([Answer(500), Answer(201, {...})]) as server: server.url``"""

    def __init__(self, answers: list[Answer] | None = None) -> None:
        self.answers = list(answers or [Answer()])
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with owner._lock:
                    owner.requests.append(Recorded(self.command, self.path,
                                                   dict(self.headers.items()), body))
                    answer = owner.answers.pop(0) if len(owner.answers) > 1 else owner.answers[0]
                if answer.delay:
                    time.sleep(answer.delay)
                payload = (answer.body if isinstance(answer.body, str)
                           else json.dumps(answer.body)).encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # client gave up (timeout)
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

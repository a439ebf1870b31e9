"""A local HTTP server that plays the Bot API (Telegram's and Bale's) for the real
python-telegram-bot client: getMe, sendMessage, getFile and file downloads,
getUpdates (from a queue the test fills), setWebhook/deleteWebhook,
answerCallbackQuery. Every call is recorded; ``fail_sends`` answers sendMessage with
errors first (a 500 is retried, a 403 is not); ``hold_sends`` keeps every sendMessage
waiting until it is set (``send_held`` says one is waiting)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote

TOKEN = "123456:TEST-bot-token"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "137", "username": "cc137_bot"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class FakeBotApi:
    token: str = TOKEN
    calls: list[Call] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)  # file_id -> bytes
    updates: list[dict[str, Any]] = field(default_factory=list)
    fail_sends: list[int] = field(default_factory=list)  # HTTP statuses to answer first
    hold_sends: threading.Event | None = None
    send_held: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_message: int = 1000

    def sent(self) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == "sendMessage"]

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, Any]:
        hold = self.hold_sends
        if method == "sendMessage" and hold is not None and not hold.is_set():
            self.send_held.set()
            hold.wait(30)
        with self._lock:
            self.calls.append(Call(method, params))
            if method == "getMe":
                return 200, BOT_USER
            if method == "sendMessage":
                if self.fail_sends:
                    status = self.fail_sends.pop(0)
                    return status, {"error_code": status, "description": "scripted failure"}
                self._next_message += 1
                return 200, {"message_id": self._next_message, "date": int(time.time()),
                             "chat": {"id": int(params["chat_id"]), "type": "private"},
                             "text": params.get("text", "")}
            if method == "getFile":
                file_id = params["file_id"]
                if file_id not in self.files:
                    return 400, {"error_code": 400, "description": "Bad Request: wrong file_id"}
                return 200, {"file_id": file_id, "file_unique_id": file_id,
                             "file_size": len(self.files[file_id]),
                             "file_path": f"photos/{file_id}.jpg"}
            if method == "getUpdates":
                offset = int(params.get("offset") or 0)
                ready = [u for u in self.updates if u["update_id"] >= offset]
                return 200, ready
            if method in ("setWebhook", "deleteWebhook", "answerCallbackQuery"):
                return 200, True
            return 404, {"error_code": 404, "description": "Not Found"}


class BotApiServer:
    """``with BotApiServer() as server: server.url, server.api``"""

    def __init__(self, api: FakeBotApi | None = None) -> None:
        self.api = api or FakeBotApi()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                prefix = f"/file/bot{owner.api.token}/photos/"
                path = unquote(self.path)  # the library quotes the token's ':'
                if path.startswith(prefix):
                    file_id = path[len(prefix):].removesuffix(".jpg")
                    body = owner.api.files.get(file_id)
                    if body is not None:
                        self._reply(200, body, "application/octet-stream")
                        return
                self._reply(404, b"{}", "application/json")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                prefix = f"/bot{owner.api.token}/"
                if not self.path.startswith(prefix):
                    self._reply(401, json.dumps({"ok": False, "error_code": 401,
                                                 "description": "Unauthorized"}).encode(),
                                "application/json")
                    return
                method = self.path[len(prefix):]
                params = _params(raw, self.headers.get("Content-Type", ""))
                status, result = owner.api.answer(method, params)
                body = ({"ok": True, "result": result} if status == 200
                        else {"ok": False, **result})
                self._reply(status, json.dumps(body).encode(), "application/json")

            def _reply(self, status: int, body: bytes, content_type: str) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> BotApiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _params(raw: bytes, content_type: str) -> dict[str, Any]:
    """The library posts JSON-ish form fields; nested values (reply_markup) are JSON."""
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        data: dict[str, Any] = json.loads(raw)
    else:
        data = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
    for key in ("reply_markup", "allowed_updates"):
        if isinstance(data.get(key), str):
            data[key] = json.loads(data[key])
    return data

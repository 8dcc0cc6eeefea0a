"""A small real OpenAI-compatible HTTP server on loopback that fails on a script.

It answers ``/v1/chat/completions`` with ``503`` for the first ``fail_503``
requests, then ``429`` with ``Retry-After`` for the next ``fail_429``, then a
well-formed chat completion with logprobs. Counts what it saw.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FlakyServer:
    def __init__(self, fail_503: int, fail_429: int, retry_after: int = 1):
        self.fail_503 = fail_503
        self.fail_429 = fail_429
        self.retry_after = retry_after
        self.requests = 0
        self.lock = threading.Lock()
        self.authorizations: set[str] = set()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> "FlakyServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _next_status(self) -> int:
        with self.lock:
            self.requests += 1
            n = self.requests
        if n <= self.fail_503:
            return 503
        if n <= self.fail_503 + self.fail_429:
            return 429
        return 200

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the test output quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                server.authorizations.add(self.headers.get("authorization", ""))
                status = server._next_status()
                if status != 200:
                    payload = {"error": {"message": "overloaded" if status == 503 else "rate limited", "type": "server_error"}}
                    self._send(status, payload, {"Retry-After": str(server.retry_after)} if status == 429 else {})
                    return
                self._send(200, {
                    "id": f"chatcmpl-{server.requests}", "object": "chat.completion", "created": int(time.time()),
                    "model": body.get("model", "flaky"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": "A confident answer."},
                                 "logprobs": {"content": [{"token": "A", "logprob": -0.01, "bytes": None, "top_logprobs": []}]}}],
                    "usage": {"prompt_tokens": 11, "completion_tokens": 4, "total_tokens": 15},
                })

            def _send(self, status, payload, headers=None):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler

"""A local stand-in for an OpenAI-compatible chat server (POST /v1/chat/completions),
speaking the real request and response shapes, for testing the adapter."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeChatServer:
    def __init__(
        self, reply: str = "亲，七天无理由退货的运费由买家承担哦。", api_key: str = "sk-test"
    ):
        self.reply = reply
        self.api_key = api_key
        self.status = 200
        self.delay = 0.0
        self.raw_body: bytes | None = None  # send this instead of a proper reply
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                if server.delay:
                    time.sleep(server.delay)
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": {"message": "not found"}})
                if self.headers.get("Authorization") != f"Bearer {server.api_key}":
                    return self._send(401, {"error": {"message": "Incorrect API key provided"}})
                if server.status != 200:
                    return self._send(server.status, {"error": {"message": "overloaded"}})
                if server.raw_body is not None:
                    return self._send_raw(server.raw_body)
                self._send(
                    200,
                    {
                        "id": "chatcmpl-1",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model"),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": server.reply},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                    },
                )

            def _send(self, status, payload):
                self.send_response(status)
                self._send_raw(json.dumps(payload).encode(), status_sent=True)

            def _send_raw(self, data: bytes, status_sent: bool = False):
                if not status_sent:
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

"""A scripted OpenAI-compatible chat server on loopback: the only fake in the answer-chain tests.

It speaks the real wire protocol (POST /v1/chat/completions, JSON or SSE when "stream": true), so
the product's whole client path runs: langchain-openai, the openai SDK, httpx, SSE parsing.
Every request body is recorded. Replies come from `server.reply(body) -> str`, which a test sets;
it can read the passages the product put in the prompt with `passages(body)`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_PASSAGE = re.compile(r'<passage n="(\d+)"([^>]*)>\n(.*?)\n</passage>', re.S)
REWRITE_MARK = "Rewrite the user's last question"


def messages(body: dict) -> list[dict]:
    return list(body.get("messages") or [])


def system_prompt(body: dict) -> str:
    return "\n".join(str(m.get("content", "")) for m in messages(body) if m.get("role") == "system")


def user_prompt(body: dict) -> str:
    return "\n".join(str(m.get("content", "")) for m in messages(body) if m.get("role") == "user")


def passages(body: dict) -> dict[int, str]:
    """n -> the fenced text of passage n in the request's user prompt."""
    return {int(m.group(1)): m.group(3) for m in _PASSAGE.finditer(user_prompt(body))}


def is_rewrite(body: dict) -> bool:
    return REWRITE_MARK in user_prompt(body)


class ScriptedLLM:
    """Start with `with ScriptedLLM() as llm:`; base_url is http://127.0.0.1:PORT/v1."""

    def __init__(self, reply: Callable[[dict], str] | None = None, chunk_size: int | None = None):
        self.reply: Callable[[dict], str] = reply or (lambda body: "NOT IN CORPUS")
        self.chunk_size = chunk_size  # None: one SSE chunk per word; n: chunks of n characters
        self.status_for: Callable[[dict], int] = lambda body: 200
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> ScriptedLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # ------------------------------------------------------------ what was asked
    def answer_requests(self) -> list[dict]:
        return [b for b in self.requests if not is_rewrite(b)]

    def rewrite_requests(self) -> list[dict]:
        return [b for b in self.requests if is_rewrite(b)]

    def pieces(self, text: str) -> list[str]:
        if self.chunk_size:
            return [text[i : i + self.chunk_size] for i in range(0, len(text), self.chunk_size)]
        words = text.split(" ")
        return [w if i == len(words) - 1 else w + " " for i, w in enumerate(words)]

    # ------------------------------------------------------------ HTTP
    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep pytest output clean
                pass

            def _json(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                    return
                with server._lock:
                    server.requests.append(body)
                status = server.status_for(body)
                if status != 200:
                    self._json(status, {"error": {"message": "scripted failure", "type": "server_error"}})
                    return
                text = server.reply(body)
                model = body.get("model", "scripted")
                created = int(time.time())
                rid = f"chatcmpl-scripted-{len(server.requests)}"
                if not body.get("stream"):
                    self._json(200, {
                        "id": rid, "object": "chat.completion", "created": created, "model": model,
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                     "finish_reason": "stop", "logprobs": None}],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                    })
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()

                def event(delta: dict, finish: str | None = None) -> None:
                    chunk = {"id": rid, "object": "chat.completion.chunk", "created": created, "model": model,
                             "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()

                event({"role": "assistant", "content": ""})
                for piece in server.pieces(text):
                    event({"content": piece})
                event({}, "stop")
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        return Handler

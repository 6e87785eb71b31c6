"""A small OpenAI-compatible server over any backend (stdlib ``http.server``).

Serves ``POST /v1/chat/completions`` and ``GET /v1/models`` for one local model, so the
``openai`` backend (and any OpenAI client) can talk to it; tests use it on 127.0.0.1.
Requests are answered one generation at a time (a lock around the backend).

Run it::

    python -m judgeaudit.generation.serve --model PATH [--port 8000] [--api-key-env NAME]

or from Python::

    with serve_backend(backend, model_name="tiny") as server:
        print(server.url)   # http://127.0.0.1:PORT/v1

With ``--api-key-env NAME`` requests must send ``Authorization: Bearer $NAME``.
Responses are JSON; generated text is never rendered as HTML.
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from judgeaudit.errors import JudgeAuditError

from .base import Backend, GenerationConfig

__all__ = ["make_server", "serve_backend", "parse_chat_request", "main"]

_MAX_BODY = 8 * 1024 * 1024


class RequestError(Exception):
    """A bad request: answered with HTTP 400 and this message."""


def parse_chat_request(body: bytes) -> tuple[list[dict], GenerationConfig, list[int], str | None]:
    """Check a chat completion request body.

    Returns ``(messages, config, seeds, model)`` with one seed per choice (``n``).
    Raises :class:`RequestError` saying what is wrong.
    """
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise RequestError(f"the body is not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise RequestError("the body must be a JSON object")
    messages = doc.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError("'messages' must be a non-empty list")
    for k, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str) or not isinstance(m.get("content"), str):
            raise RequestError(f"messages[{k}] must be an object with string 'role' and 'content'")
        if m["role"] not in ("system", "user", "assistant"):
            raise RequestError(f"messages[{k}].role {m['role']!r} is not system, user or assistant")

    def number(name, kind, default):
        value = doc.get(name, default)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and value != int(value)):
            raise RequestError(f"'{name}' must be a {kind.__name__}, got {value!r}")
        return kind(value)

    max_tokens = number("max_completion_tokens", int, None) or number("max_tokens", int, 256)
    n = number("n", int, 1)
    if not 1 <= n <= 16:
        raise RequestError("'n' must be between 1 and 16")
    stop = doc.get("stop") or []
    if isinstance(stop, str):
        stop = [stop]
    if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
        raise RequestError("'stop' must be a string or a list of strings")
    seed = number("seed", int, None)
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "little") & 0x7FFFFFFF
    try:
        config = GenerationConfig(max_new_tokens=max_tokens, temperature=number("temperature", float, 1.0),
                                  top_p=number("top_p", float, 1.0), seed=seed, stop=tuple(stop))
    except JudgeAuditError as exc:
        raise RequestError(str(exc)) from None
    model = doc.get("model") if isinstance(doc.get("model"), str) else None
    return messages, config, [seed + k for k in range(n)], model


def _handler(backend: Backend, model_name: str, api_key: str | None, lock: threading.Lock, quiet: bool):
    class Handler(BaseHTTPRequestHandler):
        server_version = "judgeaudit-serve"
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # the request line only: never headers
            if not quiet:
                sys.stderr.write(f"serve: {self.address_string()} {fmt % args}\n")

        def _send(self, status: int, doc: dict) -> None:
            data = json.dumps(doc).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str, kind: str) -> None:
            self._send(status, {"error": {"message": message, "type": kind}})

        def _authorised(self) -> bool:
            if api_key is None:
                return True
            given = self.headers.get("Authorization", "")
            if hmac.compare_digest(given.encode(), f"Bearer {api_key}".encode()):
                return True
            self._error(401, "missing or wrong API key", "authentication_error")
            return False

        def do_GET(self):
            if not self._authorised():
                return
            if self.path.rstrip("/") == "/v1/models":
                self._send(200, {"object": "list", "data": [
                    {"id": model_name, "object": "model", "owned_by": "judgeaudit"}]})
            else:
                self._error(404, f"no route {self.path}; try /v1/models", "not_found")

        def do_POST(self):
            if not self._authorised():
                return
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._error(404, f"no route {self.path}; use /v1/chat/completions", "not_found")
                return
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self._error(411, "Content-Length is required", "invalid_request_error")
                return
            if not 0 <= length <= _MAX_BODY:
                self._error(413, f"body larger than {_MAX_BODY} bytes", "invalid_request_error")
                return
            try:
                messages, config, seeds, model = parse_chat_request(self.rfile.read(length))
            except RequestError as exc:
                self._error(400, str(exc), "invalid_request_error")
                return
            if model is not None and model != model_name:
                self._error(404, f"model {model!r} is not served here; this server serves {model_name!r}",
                            "not_found")
                return
            try:
                with lock:
                    texts = backend.generate([messages] * len(seeds), config, seeds=seeds)
            except JudgeAuditError as exc:
                self._error(400, str(exc), "invalid_request_error")
                return
            except Exception as exc:  # a server fault, reported as one (the client may retry)
                self._error(500, f"{type(exc).__name__}: {exc}", "server_error")
                return
            self._send(200, {
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion",
                "created": int(time.time()), "model": model_name,
                "choices": [{"index": k, "message": {"role": "assistant", "content": t},
                             "finish_reason": "stop"} for k, t in enumerate(texts)],
            })

    return Handler


def make_server(backend: Backend, *, host: str = "127.0.0.1", port: int = 0, model_name: str = "local",
                api_key: str | None = None, quiet: bool = True) -> ThreadingHTTPServer:
    """An HTTP server (not yet serving) for ``backend``; ``port=0`` picks a free port.

    The server gets a ``url`` attribute (``http://HOST:PORT/v1``).
    """
    server = ThreadingHTTPServer((host, port), _handler(backend, model_name, api_key, threading.Lock(), quiet))
    server.daemon_threads = True
    server.url = f"http://{host}:{server.server_address[1]}/v1"
    return server


@contextlib.contextmanager
def serve_backend(backend: Backend, **options) -> Iterator[ThreadingHTTPServer]:
    """Serve ``backend`` on a background thread for the ``with`` block (see :func:`make_server`)."""
    server = make_server(backend, **options)
    thread = threading.Thread(target=server.serve_forever, name="judgeaudit-serve", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def main(argv=None) -> int:
    from .transformers_backend import TransformersBackend

    p = argparse.ArgumentParser(prog="python -m judgeaudit.generation.serve", description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="model folder (save_pretrained) or hub id")
    p.add_argument("--model-name", default=None, help="name clients send as 'model' (default: --model)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--chat-template", default=None, help="file holding a Jinja chat template")
    p.add_argument("--api-key-env", default=None, help="require this environment variable's value as key")
    p.add_argument("--verbose", action="store_true", help="log each request line to stderr")
    args = p.parse_args(argv)
    api_key = None
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env)
        if not api_key:
            print(f"serve: error: environment variable {args.api_key_env} is empty", file=sys.stderr)
            return 2
    try:
        backend = TransformersBackend(model=args.model, batch_size=args.batch_size,
                                      chat_template=args.chat_template)
    except JudgeAuditError as exc:
        print(f"serve: error: {exc}", file=sys.stderr)
        return 2
    server = make_server(backend, host=args.host, port=args.port, model_name=args.model_name or args.model,
                         api_key=api_key, quiet=not args.verbose)
    print(f"serve: {server.url} (model {args.model_name or args.model}); Ctrl-C stops", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

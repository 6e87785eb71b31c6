"""Any OpenAI-compatible ``/v1/chat/completions`` endpoint as a backend (stdlib only).

* Requests run concurrently on a thread pool (``concurrency``).
* 429, 5xx, timeouts and dropped connections are retried with exponential backoff and
  jitter (``Retry-After`` is honoured, capped at ``max_backoff``); other 4xx are not.
* A request that still fails is a :class:`~judgeaudit.generation.Completion` with status
  ``"error"``, which :func:`~judgeaudit.generation.run_generation` records as a row, never
  drops; :meth:`OpenAIBackend.generate` (the plain protocol) raises instead.
* The API key is read from the environment variable named by ``api_key_env`` (default
  ``OPENAI_API_KEY``); it is sent only in the ``Authorization`` header and never appears
  in logs, errors or the hashed configuration.  The endpoint URL is not hashed either:
  ``model`` names what generated.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from judgeaudit.errors import ConfigError, JudgeAuditError

from .base import Completion, GenerationConfig, Message, register_backend, truncate_at_stop

__all__ = ["OpenAIBackend", "chat_request_body", "RETRY_STATUSES"]

#: HTTP statuses that are retried.
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
_NETWORK_ERRORS = (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError,
                   http.client.HTTPException)


def chat_request_body(model: str, messages: Sequence[Message], config: GenerationConfig,
                      seed: int | None, extra: Mapping | None = None) -> dict:
    """The JSON body of one chat completion request.

    >>> chat_request_body("m", [{"role": "user", "content": "Hi"}], GenerationConfig(max_new_tokens=4), 3)
    {'model': 'm', 'messages': [{'role': 'user', 'content': 'Hi'}], 'max_tokens': 4, 'temperature': 0.0, 'top_p': 1.0, 'n': 1, 'seed': 3}
    """
    body = {"model": model, "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "max_tokens": config.max_new_tokens, "temperature": float(config.temperature),
            "top_p": float(config.top_p), "n": 1}
    if seed is not None:
        body["seed"] = int(seed)
    if config.stop:
        body["stop"] = list(config.stop)
    body.update(extra or {})
    return body


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


@register_backend("openai")
class OpenAIBackend:
    """Chat completions from an OpenAI-compatible HTTP server.

    Parameters
    ----------
    model:
        The model name the server knows (a checkpoint's ``path`` when built by name).
    base_url:
        Up to and including ``/v1`` (default ``$OPENAI_BASE_URL``, else
        ``https://api.openai.com/v1``).
    api_key_env:
        Name of the environment variable holding the key; unset or empty sends none.
    concurrency:
        Requests in flight at once.
    timeout:
        Seconds per request attempt.
    max_retries:
        Retries after the first attempt.
    backoff, max_backoff:
        Delay before retry ``k`` is ``min(max_backoff, backoff * 2**k)`` times a random
        factor in [0.5, 1] (jitter).
    extra_body:
        More JSON fields for every request (e.g. ``{"top_k": 20}``); part of the config hash.
    """

    backend_id = "openai"

    def __init__(self, *, model: str, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY",
                 concurrency: int = 8, timeout: float = 60.0, max_retries: int = 5,
                 backoff: float = 0.5, max_backoff: float = 30.0, extra_body: Mapping | None = None,
                 checkpoint_id: str | None = None, adapter_path: str | None = None,
                 batch_size: int | None = None):
        if adapter_path is not None:
            raise ConfigError(f"checkpoint {checkpoint_id or model!r}: the openai backend cannot load a "
                              "LoRA adapter; serve the adapted model and give its served name as the path")
        if concurrency < 1 or max_retries < 0 or timeout <= 0:
            raise ConfigError("concurrency must be >= 1, max_retries >= 0 and timeout > 0")
        self.model_name, self.checkpoint_id = str(model), checkpoint_id or str(model)
        url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        self.base_url = url.rstrip("/")
        self._shown_url = _without_credentials(self.base_url)  # for messages: no user:password@, no query
        self.api_key_env = api_key_env
        self._api_key = os.environ.get(api_key_env) or None
        self.concurrency, self.timeout, self.max_retries = int(concurrency), float(timeout), int(max_retries)
        self.backoff, self.max_backoff = float(backoff), float(max_backoff)
        self.extra_body = dict(extra_body or {})
        self._random = random.Random()
        self.attempts = 0  # HTTP attempts made, for inspection

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAIBackend(model={self.model_name!r}, base_url={self._shown_url!r})"

    def config(self) -> dict:
        return {"backend": self.backend_id, "model": self.model_name, "extra_body": self.extra_body}

    def _redact(self, text: str) -> str:
        if self._api_key:
            text = text.replace(self._api_key, "[api key]")
        return text.replace(self.base_url, self._shown_url) if self.base_url != self._shown_url else text

    def _post(self, body: dict) -> dict:
        self.attempts += 1
        data = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        req = urllib.request.Request(f"{self.base_url}/chat/completions", data=data, headers=headers,
                                     method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            detail = self._redact(exc.read()[:300].decode("utf-8", "replace"))
            message = f"HTTP {exc.code} from {self._shown_url}: {detail}"
            if exc.code in RETRY_STATUSES:
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
                try:
                    delay = float(retry_after) if retry_after is not None else None
                except ValueError:
                    delay = None
                raise _Retryable(message, delay) from None
            raise JudgeAuditError(message) from None
        except _NETWORK_ERRORS as exc:
            raise _Retryable(f"{type(exc).__name__} talking to {self._shown_url}: "
                             f"{self._redact(str(exc))}") from None
        try:
            return json.loads(raw)
        except ValueError:
            raise JudgeAuditError(f"{self._shown_url} answered with invalid JSON: "
                                  f"{raw[:200].decode('utf-8', 'replace')!r}") from None

    def _one(self, messages: Sequence[Message], config: GenerationConfig, seed: int | None) -> Completion:
        body = chat_request_body(self.model_name, messages, config, seed, self.extra_body)
        attempt = 0
        while True:
            try:
                doc = self._post(body)
                break
            except _Retryable as exc:
                if attempt == self.max_retries:
                    return Completion("", "error", f"{exc} (after {attempt + 1} attempts)")
                delay = min(self.max_backoff, self.backoff * 2 ** attempt) * self._random.uniform(0.5, 1.0)
                if exc.retry_after is not None:
                    delay = min(self.max_backoff, max(delay, exc.retry_after))
                time.sleep(delay)
                attempt += 1
            except JudgeAuditError as exc:
                return Completion("", "error", str(exc))
        try:
            text = doc["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            return Completion("", "error", f"no choices[0].message.content in the answer: "
                                           f"{json.dumps(doc)[:200]}")
        if not isinstance(text, str) and text is not None:
            return Completion("", "error", f"choices[0].message.content is not text: {text!r:.100}")
        return Completion(truncate_at_stop(text or "", config.stop))

    def generate_results(self, conversations: Sequence[Sequence[Message]], config: GenerationConfig,
                         *, seeds: Sequence[int] | None = None) -> list[Completion]:
        """One :class:`Completion` per conversation; failures are recorded, not raised."""
        if not conversations:
            return []
        seeds = list(seeds) if seeds is not None else [config.seed] * len(conversations)
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(conversations))) as pool:
            results = list(pool.map(lambda cs: self._one(cs[0], config, cs[1]), zip(conversations, seeds)))
        failed = sum(r.status != "ok" for r in results)
        if failed:
            print(f"judgeaudit: {failed} of {len(results)} requests to {self._shown_url} failed",
                  file=sys.stderr, flush=True)
        return results

    def generate(self, conversations: Sequence[Sequence[Message]], config: GenerationConfig,
                 *, seeds: Sequence[int] | None = None) -> list[str]:
        """The texts; raises :class:`~judgeaudit.errors.JudgeAuditError` if any request failed."""
        results = self.generate_results(conversations, config, seeds=seeds)
        bad = [r for r in results if r.status != "ok"]
        if bad:
            raise JudgeAuditError(f"{len(bad)} of {len(results)} requests failed; first: {bad[0].error}")
        return [r.text for r in results]


def _without_credentials(url: str) -> str:
    """``url`` without a ``user:password@`` part and without a query string (which can
    carry a key): what error messages and logs show of the endpoint."""
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))

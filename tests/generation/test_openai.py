"""The openai backend against real HTTP servers on 127.0.0.1: the bundled server serving
the tiny model, and fault servers that fail, drop connections or stall before answering."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import require_module

from .helpers import MIXED_PROMPTS, prompts_table

from judgeaudit.errors import ConfigError, JudgeAuditError  # noqa: E402
from judgeaudit.generation import (  # noqa: E402
    CheckpointSpec,
    GenerationConfig,
    OpenAIBackend,
    build_conversation,
    run_generation,
)
from judgeaudit.generation.openai_backend import chat_request_body  # noqa: E402
from judgeaudit.generation.serve import RequestError, parse_chat_request, serve_backend  # noqa: E402
from judgeaudit.tables import read_table  # noqa: E402

CONVS = [build_conversation(t) for t in MIXED_PROMPTS[:4]]
GREEDY = GenerationConfig(max_new_tokens=8)
KEY = "sk-test-0123456789abcdef"


@pytest.fixture(scope="module")
def served(varied_backend):
    require_module("torch")
    with serve_backend(varied_backend, model_name="tiny", api_key=KEY) as server:
        yield server


def _client(url, monkeypatch, **kw):
    monkeypatch.setenv("JA_TEST_KEY", KEY)
    kw.setdefault("backoff", 0.01)
    return OpenAIBackend(model="tiny", base_url=url, api_key_env="JA_TEST_KEY", **kw)


def test_served_model_answers_like_the_local_backend(served, varied_backend, monkeypatch):
    client = _client(served.url, monkeypatch, concurrency=4)
    assert client.generate(CONVS, GREEDY) == varied_backend.generate(CONVS, GREEDY)
    cfg = GenerationConfig(max_new_tokens=8, temperature=0.9)
    seeds = [5, 6, 7, 8]
    # the server seeds choice 0 with the request's seed: same draws as the local backend
    assert client.generate(CONVS, cfg, seeds=seeds) == varied_backend.generate(CONVS, cfg, seeds=seeds)
    assert client.attempts == 8
    assert "sk-" not in repr(client) and "sk-" not in json.dumps(client.config())


def test_wrong_or_missing_key_is_an_error_row_without_the_key(served, monkeypatch):
    monkeypatch.setenv("JA_WRONG", "sk-wrong-key-zzzz")
    client = OpenAIBackend(model="tiny", base_url=served.url, api_key_env="JA_WRONG", max_retries=3)
    [r] = client.generate_results(CONVS[:1], GREEDY)
    assert r.status == "error" and "HTTP 401" in r.error and "sk-wrong" not in r.error
    assert client.attempts == 1  # 401 is not retried
    monkeypatch.delenv("JA_NOPE", raising=False)
    with pytest.raises(JudgeAuditError, match="401"):
        OpenAIBackend(model="tiny", base_url=served.url, api_key_env="JA_NOPE").generate(CONVS[:1], GREEDY)


def test_models_route_and_unknown_model(served, monkeypatch):
    req = urllib.request.Request(served.url + "/models", headers={"Authorization": f"Bearer {KEY}"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert json.load(resp)["data"][0]["id"] == "tiny"
    monkeypatch.setenv("JA_TEST_KEY", KEY)
    other = OpenAIBackend(model="other", base_url=served.url, api_key_env="JA_TEST_KEY", max_retries=0)
    [r] = other.generate_results(CONVS[:1], GREEDY)
    assert r.status == "error" and "not served here" in r.error


class _Faulty:
    """A real HTTP server in front of the served model that misbehaves on the first
    ``n_faults`` requests: ``mode`` is "500", "429" (with Retry-After), "drop" (closes the
    connection without answering) or "stall" (answers after ``stall`` seconds)."""

    def __init__(self, upstream, mode, n_faults, stall=1.0, retry_after="0.05"):
        self.upstream, self.mode, self.n_faults, self.stall = upstream, mode, n_faults, stall
        self.retry_after = retry_after
        self.requests = self.inflight = self.max_inflight = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with outer.lock:
                    outer.requests += 1
                    fault = outer.requests <= outer.n_faults
                    outer.inflight += 1
                    outer.max_inflight = max(outer.max_inflight, outer.inflight)
                try:
                    self._answer(body, fault)
                finally:
                    with outer.lock:
                        outer.inflight -= 1

            def _answer(self, body, fault):
                if fault and outer.mode == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if fault and outer.mode in ("500", "429"):
                    self.send_response(int(outer.mode))
                    data = b'{"error": {"message": "try later"}}'
                    if outer.mode == "429":
                        self.send_header("Retry-After", outer.retry_after)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if fault and outer.mode == "stall":
                    time.sleep(outer.stall)
                req = urllib.request.Request(outer.upstream + "/chat/completions", data=body,
                                             headers={"Content-Type": "application/json",
                                                      "Authorization": self.headers.get("Authorization", "")})
                with urllib.request.urlopen(req, timeout=30) as resp:
                    data = resp.read()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("mode", ["500", "429", "drop"])
def test_retries_until_the_server_answers(served, varied_backend, monkeypatch, mode):
    with _Faulty(served.url, mode, n_faults=2) as faulty:
        client = _client(faulty.url, monkeypatch, concurrency=1, max_retries=3)
        assert client.generate(CONVS[:1], GREEDY) == varied_backend.generate(CONVS[:1], GREEDY)
        assert faulty.requests == 3 and client.attempts == 3


def test_per_request_timeout_is_retried(served, varied_backend, monkeypatch):
    with _Faulty(served.url, "stall", n_faults=1, stall=1.5) as faulty:
        client = _client(faulty.url, monkeypatch, concurrency=1, max_retries=2, timeout=0.5)
        assert client.generate(CONVS[:1], GREEDY) == varied_backend.generate(CONVS[:1], GREEDY)
        assert client.attempts == 2 and faulty.requests == 2  # the stalled attempt timed out


def test_requests_run_concurrently(served, varied_backend, monkeypatch):
    with _Faulty(served.url, "stall", n_faults=4, stall=0.5) as faulty:
        client = _client(faulty.url, monkeypatch, concurrency=4, timeout=30)
        assert client.generate(CONVS, GREEDY) == varied_backend.generate(CONVS, GREEDY)
        assert faulty.max_inflight >= 2  # several requests were in flight at once


@pytest.mark.parametrize("max_backoff,expected", [(30.0, [3.0, 3.0]), (1.0, [1.0, 1.0])])
def test_retry_after_is_honoured_up_to_max_backoff(served, varied_backend, monkeypatch, max_backoff,
                                                   expected):
    sleeps = []
    monkeypatch.setattr("judgeaudit.generation.openai_backend.time.sleep", sleeps.append)
    with _Faulty(served.url, "429", n_faults=2, retry_after="3") as faulty:
        # own backoff at most 0.001 s: each wait is the server's Retry-After, capped at max_backoff
        client = _client(faulty.url, monkeypatch, concurrency=1, max_retries=3, backoff=0.001,
                         max_backoff=max_backoff)
        assert client.generate(CONVS[:1], GREEDY) == varied_backend.generate(CONVS[:1], GREEDY)
    assert sleeps == expected


def test_backoff_grows_exponentially(monkeypatch):
    sleeps = []
    monkeypatch.setattr("judgeaudit.generation.openai_backend.time.sleep", sleeps.append)
    # nothing listens on port 9 of 127.0.0.1 (discard): every attempt is refused
    client = OpenAIBackend(model="m", base_url="http://127.0.0.1:9/v1", max_retries=4, backoff=1.0,
                           max_backoff=5.0, timeout=2)
    [r] = client.generate_results(CONVS[:1], GREEDY)
    assert r.status == "error" and "after 5 attempts" in r.error
    # delay k is min(5, 2**k) times a factor in [0.5, 1]: 1, 2, 4, 5 -> [0.5, 1], [1, 2], [2, 4], [2.5, 5]
    assert len(sleeps) == 4
    for d, cap in zip(sleeps, [1, 2, 4, 5]):
        assert cap / 2 <= d <= cap


def test_failed_requests_become_error_rows_and_a_rerun_retries_them_when_asked(served, monkeypatch, tmp_path):
    out = tmp_path / "gens.parquet"
    prompts = prompts_table(MIXED_PROMPTS[:3])
    spec = CheckpointSpec("served", path="tiny")
    opts = {"base_url": None, "api_key_env": "JA_TEST_KEY", "max_retries": 1, "backoff": 0.01, "concurrency": 1}
    monkeypatch.setenv("JA_TEST_KEY", KEY)
    with _Faulty(served.url, "500", n_faults=4) as faulty:  # the first two requests fail twice each
        s = run_generation([spec], prompts, config=GREEDY, backend="openai", out=out,
                           backend_options={**opts, "base_url": faulty.url})
        assert (s.n_new, s.n_errors, s.n_rows) == (1, 2, 3)
        g = read_table(out, "generations")
        bad = g[g["status"] == "error"]
        assert len(bad) == 2 and (bad["response"] == "").all()
        assert bad["error"].str.contains("HTTP 500").all() and not bad["error"].str.contains(KEY).any()
        # a plain rerun keeps the error rows (failures are retried only when asked)...
        s = run_generation([spec], prompts, config=GREEDY, backend="openai", out=out,
                           backend_options={**opts, "base_url": faulty.url})
        assert (s.n_new, s.n_errors, s.n_skipped, s.n_rows) == (0, 0, 3, 3)
        assert faulty.requests == 4 + 1
        # ...and retry_errors=True sends them again
        s = run_generation([spec], prompts, config=GREEDY, backend="openai", out=out,
                           backend_options={**opts, "base_url": faulty.url}, retry_errors=True)
        assert (s.n_new, s.n_errors, s.n_skipped, s.n_rows) == (2, 0, 1, 3)
        assert faulty.requests == 4 + 1 + 2
    g = read_table(out, "generations")
    assert (g["status"] == "ok").all() and len(g) == 3 and g["error"].isna().all()


def test_an_adapter_is_refused():
    with pytest.raises(ConfigError, match="cannot load a LoRA adapter"):
        OpenAIBackend(model="m", adapter_path="/x")


def test_request_body():
    body = chat_request_body("m", CONVS[0], GenerationConfig(max_new_tokens=3, stop=("\n",)), 9, {"top_k": 2})
    assert body == {"model": "m", "messages": CONVS[0], "max_tokens": 3, "temperature": 0.0, "top_p": 1.0,
                    "n": 1, "seed": 9, "stop": ["\n"], "top_k": 2}
    messages, config, seeds, model = parse_chat_request(json.dumps(body).encode())
    assert (messages, config.max_new_tokens, config.stop, seeds, model) == (CONVS[0], 3, ("\n",), [9], "m")


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=200),
                 st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                              lambda c: st.lists(c, max_size=4) | st.dictionaries(st.sampled_from(
                                  ["messages", "role", "content", "n", "max_tokens", "temperature", "top_p",
                                   "stop", "seed", "model"]), c, max_size=6), max_leaves=20)
                 .map(lambda d: json.dumps(d).encode())))
def test_request_parser_never_crashes(body):
    try:
        messages, config, seeds, _ = parse_chat_request(body)
    except RequestError:
        return
    assert messages and len(seeds) >= 1 and config.max_new_tokens >= 1


class _Answers(OpenAIBackend):
    """The response handling alone: ``_post`` returns a given decoded JSON answer."""

    def __init__(self, answer):
        super().__init__(model="m", base_url="http://127.0.0.1:9/v1", max_retries=0)
        self.answer = answer

    def _post(self, body):
        return self.answer


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                     lambda c: st.lists(c, max_size=3) | st.dictionaries(
                         st.sampled_from(["choices", "message", "content", "role", "text"]), c, max_size=3),
                     max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_any_answer_shape_becomes_a_completion(answer):
    [r] = _Answers(answer).generate_results(CONVS[:1], GREEDY)
    assert r.status in ("ok", "error") and isinstance(r.text, str)
    if r.status == "error":
        assert r.text == "" and r.error


def test_generate_command_with_the_openai_backend(served, monkeypatch, tmp_path, capsys):
    from judgeaudit.cli import main

    monkeypatch.setenv("JA_TEST_KEY", KEY)
    f = tmp_path / "p.csv"
    prompts_table(MIXED_PROMPTS[:2]).to_csv(f, index=False)
    out = tmp_path / "g.parquet"
    assert main(["generate", "--backend", "openai", "--base-url", served.url, "--api-key-env", "JA_TEST_KEY",
                 "--model", "served=tiny", "--prompts", str(f), "--max-new-tokens", "4", "--out", str(out),
                 "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["n_new"] == 2 and KEY not in captured.out + captured.err
    assert set(read_table(out, "generations")["checkpoint_id"]) == {"served"}


def test_credentials_in_the_endpoint_url_never_reach_an_error(monkeypatch):
    # Nothing listens on port 9 of 127.0.0.1: the request fails at once, and its error
    # text names the endpoint without the user:password part or the query string.
    monkeypatch.delenv("JA_NONE", raising=False)
    client = OpenAIBackend(model="tiny", base_url="http://alice:s3cret@127.0.0.1:9/v1?key=qwerty",
                           api_key_env="JA_NONE", max_retries=0, timeout=5)
    [r] = client.generate_results(CONVS[:1], GREEDY)
    assert r.status == "error" and "127.0.0.1:9/v1" in r.error
    for secret in ("s3cret", "alice", "qwerty"):
        assert secret not in r.error and secret not in repr(client)


def test_cli_retries_failed_requests_only_with_retry_errors(served, monkeypatch, tmp_path, capsys):
    from judgeaudit.cli import main
    from judgeaudit.tables import write_table

    prompts = tmp_path / "prompts.jsonl"
    write_table(prompts_table(MIXED_PROMPTS[:3]), prompts, "prompts")
    out = tmp_path / "gens.parquet"
    monkeypatch.setenv("JA_TEST_KEY", KEY)
    with _Faulty(served.url, "500", n_faults=2) as faulty:  # max_retries 0: two requests fail
        args = ["generate", "--model", "tiny", "--prompts", str(prompts), "--out", str(out), "--backend", "openai",
                "--base-url", faulty.url, "--api-key-env", "JA_TEST_KEY", "--max-retries", "0",
                "--concurrency", "1", "--json"]
        assert main(args) == 1  # some requests failed
        first = json.loads(capsys.readouterr().out)
        assert (first["n_new"], first["n_errors"]) == (1, 2)
        assert main(args) == 0  # a plain rerun keeps the error rows and sends nothing
        assert json.loads(capsys.readouterr().out)["n_skipped"] == 3 and faulty.requests == 3
        assert main([*args, "--retry-errors"]) == 0
        retried = json.loads(capsys.readouterr().out)
        assert (retried["n_new"], retried["n_skipped"], faulty.requests) == (2, 1, 5)
    assert (read_table(out, "generations")["status"] == "ok").all()

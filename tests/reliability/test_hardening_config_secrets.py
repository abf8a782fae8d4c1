"""Issue 18, faults 1, 2, 13, 21: a hostile config and a key-echoing endpoint.

A YAML alias bomb, duplicate keys, an empty config, a 5,000-digit number, an oversize
file and out-of-range numbers each become one ConfigError naming the fix; an
OpenAI-compatible endpoint that echoes the Authorization header never gets the key printed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ftui.cli import main
from ftui.config import ConfigError, RunConfig, apply_overrides, load_config, load_config_text
from ftui.train.preflight import validate

BOMB = "model: demo\nextra:\n  a: &a [x, x, x, x, x, x, x, x, x]\n  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n  c: [*b, *b, *b]\n"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (BOMB, "anchor"),
        ("model: demo\nextra:\n  b: *a\n", "alias"),
        ("model: demo\nlearning_rate: 1e-4\nseed: 3\nlearning_rate: 2e-4\n", "'learning_rate' twice (lines 2 and 4)"),
        ("", "is empty"),
        ("# only a comment\n", "is empty"),
        ("{}\n", "is empty"),
        ("model: demo\nseed: " + "7" * 5000 + "\n", "5000 digits at line 2"),
        ("model: demo\nmax_steps: 10000000000000000000\n", "far too large"),
        ("model: demo\nnum_epochs: .inf\n", "not a finite number"),
        ("model: demo\nlearning_rate: .nan\n", "not a finite number"),
        ("model: demo\n# " + "x" * 300_000 + "\n", "at most 256 KB"),
        ("model: demo\nextra:\n  a: " + "[" * 3000 + "]" * 3000 + "\n", "nested too deeply"),
    ],
    ids=["alias-bomb", "alias", "duplicate-key", "empty", "comment-only", "empty-mapping", "5000-digits", "2**64",
         "inf", "nan", "300-KB", "deep-nesting"],
)
def test_hostile_config_text_is_refused_readably(text: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config_text(text, "x.yaml")
    assert words in str(info.value)


def test_alias_bomb_in_a_set_override_is_refused() -> None:
    with pytest.raises(ConfigError, match="anchor"):
        apply_overrides(RunConfig(), ["extra.x=&a [1, *a]"])


def test_config_file_that_is_not_regular_or_is_huge(tmp_path: Path) -> None:
    import os
    import threading

    fifo = tmp_path / "cfg.fifo"
    os.mkfifo(fifo)
    done = threading.Event()

    def unblock() -> None:  # before the fix open() blocked until a writer came: be that writer, late
        if not done.wait(10):
            open(fifo, "wb").close()

    helper = threading.Thread(target=unblock, daemon=True)
    helper.start()
    try:
        with pytest.raises(ConfigError, match="not a regular file"):
            load_config(fifo)
    finally:
        done.set()
        helper.join(15)
    big = tmp_path / "big.yaml"
    big.write_text("model: demo\n" + "#" * (1 << 20) + "\n")
    with pytest.raises(ConfigError, match="256 KB"):
        load_config(big)


@pytest.mark.parametrize(
    ("field", "value"),
    [("lora_r", 100_000), ("num_epochs", 1e6), ("max_seq_len", 1 << 30), ("seed", 2**40), ("micro_batch_size", 10**7),
     ("grad_accum", 10**8), ("weight_decay", 1e3)],
)
def test_every_numeric_field_has_an_upper_bound(field: str, value: float) -> None:
    problems = validate(RunConfig(**{field: value}), check_files=False, check_model=False, check_env=False)
    assert any(p.field == field and "too large" in p.message for p in problems), problems


def test_cli_check_refuses_alias_bomb_and_empty_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB)
    assert main(["train", str(bomb), "--check"]) == 2
    assert "anchor" in capsys.readouterr().err
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert main(["train", str(empty), "--check"]) == 2
    assert "is empty" in capsys.readouterr().err


# --- fault 2: one scrubber for remote error text ------------------------------------------------------

KEY = "sk-test-1234567890abcdefSECRET"


class _EchoAuthServer:
    """Answers every POST with a 401 whose message echoes the Authorization header (as some services do)."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                self.rfile.read(int(self.headers.get("content-length", "0")))
                auth = self.headers.get("Authorization", "")
                body = json.dumps({"error": {"message": f"Incorrect API key provided: {auth}", "type": "invalid_request_error",
                                             "code": "invalid_api_key"}}).encode()
                self.send_response(401)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


@pytest.fixture
def echo_server() -> Iterator[_EchoAuthServer]:
    server = _EchoAuthServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
def test_set(tmp_path: Path) -> Path:
    p = tmp_path / "test.jsonl"
    p.write_text("".join(json.dumps({"messages": [{"role": "user", "content": f"q{k}"}, {"role": "assistant", "content": "a"}]})
                         + "\n" for k in range(2)))
    return p


def test_generate_and_judge_never_print_the_key(echo_server, test_set, capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    code = main(["eval", "generate", "--system", f"evil=openai:m@{echo_server.base_url}", "--test", str(test_set)])
    out, err = capsys.readouterr()
    assert code == 2 and "401" in err
    assert KEY not in out + err and "sk-test" not in out + err
    code = main(["eval", "judge", "--system", f"a=openai:m@{echo_server.base_url}", "--system",
                 f"b=openai:n@{echo_server.base_url}", "--test", str(test_set), "--judge-model", "j",
                 "--judge-url", echo_server.base_url])
    out, err = capsys.readouterr()
    assert code == 2 and KEY not in out + err and "sk-test" not in out + err
    cache = Path(__import__("os").environ["FTUI_CACHE_DIR"])
    for f in cache.rglob("*"):
        if f.is_file():
            assert KEY.encode() not in f.read_bytes(), f


def test_judge_endpoint_error_is_scrubbed(echo_server, monkeypatch) -> None:
    from ftui.evaluate.judge import Judge, JudgeError

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    judge = Judge("j", base_url=echo_server.base_url, template="{prompt}{output_1}{output_2}{reference}")
    with pytest.raises(JudgeError) as info:
        judge.ask("p", "a", "b", None)
    assert "401" in str(info.value) and KEY not in str(info.value) and "sk-test" not in str(info.value)


@pytest.mark.parametrize(
    "text",
    [f"Incorrect API key provided: Bearer {KEY}", f"auth failed for {KEY[:18]}", "authorization: abcdef123456789",
     "token hf_abcdefghijklmnopqrstuv leaked"],
    ids=["bearer", "cut-short", "header", "hf-token"],
)
def test_scrubber_removes_key_shapes_even_cut_short(text: str) -> None:
    from ftui.secrets import scrub_secrets

    scrubbed = scrub_secrets(text)
    assert "sk-test" not in scrubbed and "abcdef123456789" not in scrubbed and "hf_abc" not in scrubbed
    assert "***" in scrubbed


def test_training_and_openai_client_use_the_same_scrubber(monkeypatch) -> None:
    from ftui.train.openai_client import redact
    from ftui.train.worker import scrub

    assert "sk-test" not in scrub(f"Bearer {KEY}", [])
    assert "sk-test" not in redact(f"echo {KEY[:20]}", "other-secret-value")

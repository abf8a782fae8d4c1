"""The OpenAI backend, driven through the real ``openai`` client against a local fake server."""

from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path

import pytest

from ftui.config import RunConfig
from ftui.train.control import RunControl
from ftui.train.events import Checkpoint, Eval, Event, EventLogWriter, Failed, Finished, Log, Message, Started, Stopped
from ftui.train.openai_backend import JOB_STATE_NAME, OpenAIDeps, job_params, run_openai
from ftui.train.openai_client import OpenAIBackendError, RetryPolicy
from ftui.train.openai_data import prepare_openai_file
from tests.fakes.openai_server import (
    FINE_TUNED_MODEL,
    FakeOpenAI,
    Stage,
    closed_port_url,
    endless_script,
    failing_script,
    metrics,
)

FAKE_KEY = "sk-test-FAKE0123456789abcdefghijklmnopqrstuv"
WRONG_KEY = "sk-test-WRONG9876543210zyxwvutsrqponmlkjih"
TERMINAL = ("finished", "failed", "stopped")


class FakeTime:
    """A clock that only moves when the code sleeps: polling and backoff cost no real time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def chat_row(i: int) -> dict:
    return {"messages": [{"role": "system", "content": "Classify the ticket."},
                         {"role": "user", "content": f"ticket number {i}: my invoice is wrong"},
                         {"role": "assistant", "content": "billing"}]}


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, Path]:
    train = write_jsonl(tmp_path / "train.jsonl", [chat_row(i) for i in range(12)])
    valid = write_jsonl(tmp_path / "valid.jsonl", [chat_row(100 + i) for i in range(3)])
    return train, valid


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with FakeOpenAI(FAKE_KEY) as fake:
        yield fake


def make_config(data: tuple[Path, Path], base_url: str | None, **overrides) -> RunConfig:
    train, valid = data
    values = dict(method="openai", train_path=str(train), eval_path=str(valid), openai_base_url=base_url,
                  num_epochs=3.0, openai_suffix="tickets", seed=7)
    values.update(overrides)
    return RunConfig(**values)


def run(config: RunConfig, run_dir: Path, control: RunControl | None = None, time_: FakeTime | None = None,
        on_event=None) -> list[Event]:
    """Run the backend with fake time; every event also goes to run_dir/events.jsonl like the worker does."""
    time_ = time_ or FakeTime()
    deps = OpenAIDeps(sleep=time_.sleep, clock=time_.clock, rng=random.Random(0), poll_interval_s=10.0,
                      retry=RetryPolicy(attempts=4, base_s=1.0, cap_s=8.0), request_timeout_s=5.0)
    events: list[Event] = []
    with EventLogWriter(run_dir / "events.jsonl") as log:
        def emit(event: Event) -> None:
            events.append(event)
            log.write(event)
            if on_event:
                on_event(event)
        run_openai(config, run_dir, emit, control or RunControl(), deps=deps)
    return events


def of(events: list[Event], cls: type) -> list:
    return [e for e in events if isinstance(e, cls)]


def assert_one_terminal_last(events: list[Event]) -> None:
    terminal = [e for e in events if e.type in TERMINAL]
    assert len(terminal) == 1 and events[-1] is terminal[0], [e.type for e in events]


def assert_no_key_anywhere(run_dir: Path, events: list[Event], *keys: str) -> None:
    for path in run_dir.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            for key in keys:
                assert key.encode() not in content, f"{path.name} contains the API key"
    text = json.dumps([e.to_dict() for e in events])
    for key in keys:
        assert key not in text


# -- the happy path -------------------------------------------------------------------------


def test_happy_path_streams_losses_checkpoints_and_finishes_with_model_id(server, data, tmp_path):
    run_dir = tmp_path / "run-1"
    events = run(make_config(data, server.base_url), run_dir)

    assert_one_terminal_last(events)
    assert isinstance(events[-1], Finished) and events[-1].adapter_path == FINE_TUNED_MODEL
    assert events[-1].step == 6
    started = of(events, Started)
    assert len(started) == 1 and started[0].method == "openai" and started[0].model == "gpt-4o-mini-2024-07-18"
    logs = of(events, Log)
    assert [e.step for e in logs] == [1, 2, 3, 4, 5, 6]
    assert [e.loss for e in logs] == [2.5, 2.1, 1.8, 1.5, 1.2, 1.0]
    assert [e.mean_token_accuracy for e in logs] == [0.30, 0.40, 0.50, 0.55, 0.60, 0.70]
    evals = of(events, Eval)
    assert [(e.step, e.eval_loss) for e in evals] == [(3, 1.9), (6, 1.25)]  # full_valid_loss wins at step 6
    assert evals[1].metrics == {"valid_loss": 1.3, "full_valid_loss": 1.25}
    assert [(c.step, c.path) for c in of(events, Checkpoint)] == [
        (3, f"{FINE_TUNED_MODEL}:ckpt-step-3"), (6, f"{FINE_TUNED_MODEL}:ckpt-step-6")]
    texts = [m.text for m in of(events, Message)]
    assert "Fine-tuning job started" in texts and any("trained tokens" in t for t in texts)

    # the job: hyperparameters under method.supervised (not the deprecated top level), seed, suffix, tag
    body = server.create_bodies[0]
    assert "hyperparameters" not in body
    assert body["method"] == {"type": "supervised", "supervised": {"hyperparameters": {
        "n_epochs": 3, "batch_size": "auto", "learning_rate_multiplier": "auto"}}}
    assert body["model"] == "gpt-4o-mini-2024-07-18" and body["suffix"] == "tickets" and body["seed"] == 7
    assert list(body["metadata"]) == ["ftui_run"] and body["metadata"]["ftui_run"].startswith("run-1-")
    uploaded = [f["content"].decode().splitlines() for f in server.files.values()]
    assert [len(lines) for lines in uploaded] == [12, 3]
    assert json.loads(uploaded[0][0]) == chat_row(0)

    state = json.loads((run_dir / JOB_STATE_NAME).read_text())
    job_id = state["id"]
    assert job_id in server.jobs and state["model"] == "gpt-4o-mini-2024-07-18"
    assert state["training_file"] == body["training_file"] and state["validation_file"] == body["validation_file"]
    assert state["fine_tuned_model"] == FINE_TUNED_MODEL and state["status"] == "succeeded"
    assert_no_key_anywhere(run_dir, events, FAKE_KEY)


def test_explicit_hyperparameters_are_sent(server, data, tmp_path):
    config = make_config(data, server.base_url, num_epochs=2.0, openai_batch_size=8, openai_lr_multiplier=0.5,
                         eval_path=None, openai_suffix=None)
    events = run(config, tmp_path / "run")
    assert isinstance(events[-1], Finished)
    body = server.create_bodies[0]
    assert body["method"]["supervised"]["hyperparameters"] == {
        "n_epochs": 2, "batch_size": 8, "learning_rate_multiplier": 0.5}
    assert "validation_file" not in body and "suffix" not in body
    assert len(server.files) == 1


def test_base_url_from_environment(server, data, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    events = run(make_config(data, None), tmp_path / "run")
    assert isinstance(events[-1], Finished)


# -- failures -------------------------------------------------------------------------------


def test_missing_key_fails_with_the_fix_and_calls_nothing(server, data, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    events = run(make_config(data, server.base_url), tmp_path / "run")
    assert_one_terminal_last(events)
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.message == "OPENAI_API_KEY is not set"
    assert "set OPENAI_API_KEY in the environment" in failed.hint
    assert server.requests == []


def test_rejected_key_gives_one_401_message_and_never_leaks_it(server, data, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", WRONG_KEY)  # the server echoes the key it got in its 401 message
    run_dir = tmp_path / "run"
    events = run(make_config(data, server.base_url), run_dir)
    assert_one_terminal_last(events)
    failed = events[-1]
    assert isinstance(failed, Failed)
    assert "API key was rejected" in failed.message and "401" in failed.message
    assert "OPENAI_API_KEY" in failed.hint
    assert server.count("POST", "/v1/files") == 1  # a 401 is not retried
    assert [s for _, _, s in server.requests] == [401]
    assert_no_key_anywhere(run_dir, events, WRONG_KEY, FAKE_KEY)


def test_rate_limit_then_success_backs_off_and_finishes(server, data, tmp_path):
    server.fail("POST", "/v1/files", 429, times=2, message="Rate limit reached", headers={"retry-after": "3"})
    clock = FakeTime()
    events = run(make_config(data, server.base_url), tmp_path / "run", time_=clock)
    assert isinstance(events[-1], Finished)
    retries = [m.text for m in of(events, Message) if m.level == "warning"]
    assert len(retries) == 2 and all("rate limited (429)" in t for t in retries)
    assert "attempt 2/4" in retries[0] and "attempt 3/4" in retries[1]
    assert server.count("POST", "/v1/files") == 4  # 2 refused + train + validation
    # Retry-After (3 s) is honoured when longer than the backoff; waits happened on the fake clock only
    assert sum(clock.sleeps) >= 6.0


def test_server_error_then_success_while_polling(server, data, tmp_path):
    server.fail("GET", r"/v1/fine_tuning/jobs/[^/]+", 500, times=2, message="The server had an error")
    events = run(make_config(data, server.base_url), tmp_path / "run")
    assert isinstance(events[-1], Finished) and events[-1].adapter_path == FINE_TUNED_MODEL
    assert sum("server error (500)" in m.text for m in of(events, Message)) == 2
    assert [e.step for e in of(events, Log)] == [1, 2, 3, 4, 5, 6]


def test_persistent_server_error_is_bounded_and_explained(server, data, tmp_path):
    server.fail("POST", "/v1/fine_tuning/jobs", 503, times=100, message="Service unavailable")
    clock = FakeTime()
    events = run(make_config(data, server.base_url), tmp_path / "run", time_=clock)
    assert_one_terminal_last(events)
    failed = events[-1]
    assert isinstance(failed, Failed) and "kept failing (503)" in failed.message
    assert "Service unavailable" in failed.message and "try again later" in failed.hint
    assert server.count("POST", "/v1/fine_tuning/jobs") == 4  # attempts=4, then give up
    # exponential with jitter, each wait bounded by the cap, spent on the fake clock
    waits = [float(re.search(r"retrying in ([0-9.]+) s", m.text).group(1)) for m in of(events, Message)
             if m.level == "warning"]
    assert len(waits) == 3 and all(0 < w <= 8.0 for w in waits) and waits[0] < waits[2]
    assert sum(clock.sleeps) == pytest.approx(sum(waits), abs=0.2)


def test_job_created_but_reply_lost_is_adopted_not_duplicated(server, data, tmp_path):
    server.fail("POST", "/v1/fine_tuning/jobs", None, times=1, after=True)  # created, then the connection drops
    events = run(make_config(data, server.base_url), tmp_path / "run")
    assert isinstance(events[-1], Finished)
    assert len(server.jobs) == 1 and server.count("POST", "/v1/fine_tuning/jobs") == 1
    assert any("connection failed" in m.text for m in of(events, Message))


def test_connection_refused_names_the_url_and_the_fix(data, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    url = closed_port_url()
    clock = FakeTime()
    events = run(make_config(data, url), tmp_path / "run", time_=clock)
    assert_one_terminal_last(events)
    failed = events[-1]
    assert isinstance(failed, Failed)
    assert failed.message == f"cannot reach {url}: check the network or OPENAI_BASE_URL"
    assert sum("connection failed" in m.text for m in of(events, Message)) == 3  # retried before giving up


def test_dropped_connection_while_reading_events_recovers(server, data, tmp_path):
    server.fail("GET", r"/v1/fine_tuning/jobs/[^/]+/events", None, times=1)
    events = run(make_config(data, server.base_url), tmp_path / "run")
    assert isinstance(events[-1], Finished)
    assert [e.step for e in of(events, Log)] == [1, 2, 3, 4, 5, 6]


def test_failed_job_reports_its_error_and_a_hint(server, data, tmp_path):
    server.script = failing_script()
    events = run(make_config(data, server.base_url), tmp_path / "run")
    assert_one_terminal_last(events)
    failed = events[-1]
    assert isinstance(failed, Failed)
    assert "Row 3 has too many tokens" in failed.message and "invalid_training_file" in failed.message
    assert "training file" in failed.hint and "ftui lint" in failed.hint
    assert failed.step == 1


def test_job_cancelled_elsewhere_ends_as_stopped(server, data, tmp_path):
    server.script = [Stage("running", [metrics(1, 2.0)]), Stage("cancelled", [{"message": "Job cancelled"}])]
    events = run(make_config(data, server.base_url), tmp_path / "run")
    assert_one_terminal_last(events)
    assert isinstance(events[-1], Stopped) and events[-1].step == 1


def test_stop_request_cancels_the_job(server, data, tmp_path):
    server.script = endless_script()
    control = RunControl()

    def stop_after_step_3(event: Event) -> None:
        if isinstance(event, Log) and event.step >= 3:
            control.request_stop()

    events = run(make_config(data, server.base_url), tmp_path / "run", control=control, on_event=stop_after_step_3)
    assert_one_terminal_last(events)
    assert isinstance(events[-1], Stopped) and events[-1].step == 3
    assert server.count("POST", r"/v1/fine_tuning/jobs/[^/]+/cancel") == 1
    (job,) = server.jobs.values()
    assert job["status"] == "cancelled"
    state = json.loads((tmp_path / "run" / JOB_STATE_NAME).read_text())
    assert state["status"] == "cancelled"


def test_stop_before_the_job_exists_creates_nothing(server, data, tmp_path):
    control = RunControl()
    control.request_stop()
    events = run(make_config(data, server.base_url), tmp_path / "run", control=control)
    assert isinstance(events[-1], Stopped)
    assert server.jobs == {}


# -- resume ---------------------------------------------------------------------------------


def test_resume_follows_an_existing_job_without_uploading_or_creating(server, data, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    server.add_job("ftjob-existing", status="running")
    (run_dir / JOB_STATE_NAME).write_text(json.dumps({"id": "ftjob-existing", "model": "gpt-4o-mini-2024-07-18",
                                                      "training_file": "file-old"}))
    events = run(make_config(data, server.base_url), run_dir)
    assert isinstance(events[-1], Finished) and events[-1].adapter_path == FINE_TUNED_MODEL
    assert server.count("POST", "/v1/files") == 0 and server.count("POST", "/v1/fine_tuning/jobs") == 0
    assert len(of(events, Started)) == 1
    assert any("resuming" in m.text for m in of(events, Message))


class Crash(BaseException):
    """Simulates the process dying (not an Exception, so the backend cannot turn it into `failed`)."""


def test_resume_after_a_crash_continues_without_repeating_events(server, data, tmp_path):
    run_dir = tmp_path / "run"

    def crash_at_step_5(event: Event) -> None:
        if isinstance(event, Log) and event.step == 5:
            raise Crash

    with pytest.raises(Crash):
        run(make_config(data, server.base_url), run_dir, on_event=crash_at_step_5)
    second = run(make_config(data, server.base_url), run_dir)

    assert isinstance(second[-1], Finished)
    assert of(second, Started)[0].resumed_from_step == 3
    assert [e.step for e in of(second, Log)] == [4, 5, 6]  # the unsaved batch is read again, nothing older
    assert [c.step for c in of(second, Checkpoint)] == [6]
    assert len(server.jobs) == 1 and server.count("POST", "/v1/files") == 2
    assert_no_key_anywhere(run_dir, second, FAKE_KEY)


# -- data and config checks (before any upload) -----------------------------------------------


def test_fewer_than_ten_examples_is_refused_before_upload(server, data, tmp_path):
    small = write_jsonl(tmp_path / "small.jsonl", [chat_row(i) for i in range(9)])
    events = run(make_config(data, server.base_url, train_path=str(small)), tmp_path / "run")
    failed = events[-1]
    assert isinstance(failed, Failed) and "at least 10 examples" in failed.message and "has 9" in failed.message
    assert server.requests == []


def test_a_bad_row_is_named_before_upload(server, data, tmp_path):
    rows = [chat_row(i) for i in range(12)]
    rows[4] = {"text": "just text"}
    bad = write_jsonl(tmp_path / "bad.jsonl", rows)
    events = run(make_config(data, server.base_url, train_path=str(bad)), tmp_path / "run")
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.message.startswith("train_path: row 5 of bad.jsonl")
    assert server.requests == []


def test_bad_hyperparameter_names_the_field(server, data, tmp_path):
    events = run(make_config(data, server.base_url, openai_lr_multiplier=-1.0), tmp_path / "run")
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.message.startswith("openai_lr_multiplier")
    assert server.requests == []


def test_other_formats_are_converted_to_chat(tmp_path):
    pytest.importorskip("ftui.data.formats")  # format detection and conversion are the data package's
    src = write_jsonl(tmp_path / "alpaca.jsonl", [{"instruction": "Classify", "input": f"t{i}", "output": "billing"}
                                                  for i in range(3)])
    prepared = prepare_openai_file(src, tmp_path / "out.jsonl", "train_path")
    assert prepared.examples == 3 and prepared.converted_from == "alpaca"
    first = json.loads((tmp_path / "out.jsonl").read_text().splitlines()[0])
    assert first == {"messages": [{"role": "user", "content": "Classify\n\nt0"},
                                  {"role": "assistant", "content": "billing"}]}
    share = write_jsonl(tmp_path / "share.jsonl", [{"conversations": [{"from": "human", "value": "hi"},
                                                                      {"from": "gpt", "value": "hello"}]}])
    assert prepare_openai_file(share, tmp_path / "s.jsonl", "train_path").converted_from == "sharegpt"


def test_missing_data_file_names_the_field(tmp_path):
    with pytest.raises(OpenAIBackendError, match=r"^eval_path: .*nope.jsonl does not exist"):
        prepare_openai_file(tmp_path / "nope.jsonl", tmp_path / "out.jsonl", "eval_path")


def test_preference_data_is_refused_with_the_reason(tmp_path):
    pytest.importorskip("ftui.data.formats")  # format detection and conversion are the data package's
    src = write_jsonl(tmp_path / "pref.jsonl", [{"prompt": "q", "chosen": "a", "rejected": "b"}] * 12)
    with pytest.raises(OpenAIBackendError, match="preference data"):
        prepare_openai_file(src, tmp_path / "out.jsonl", "train_path", min_examples=10)
    assert not (tmp_path / "out.jsonl").exists()


def test_chat_rows_keep_tool_calls_weights_and_tools(tmp_path):
    row = {"messages": [{"role": "user", "content": "weather?"},
                        {"role": "assistant", "content": None, "weight": 0,
                         "tool_calls": [{"id": "c1", "type": "function",
                                         "function": {"name": "get_weather", "arguments": "{}"}}]},
                        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
                        {"role": "assistant", "content": "It is sunny."}],
           "tools": [{"type": "function", "function": {"name": "get_weather"}}], "id": "dropped"}
    src = write_jsonl(tmp_path / "tools.jsonl", [row])
    src.write_text(src.read_text() + "\n")  # a trailing blank line is skipped, not an error
    prepare_openai_file(src, tmp_path / "out.jsonl", "train_path")
    (written,) = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert written == {"messages": row["messages"], "tools": row["tools"]}


def test_epochs_auto_and_rounding():
    assert job_params(RunConfig(num_epochs="auto"))["method"]["supervised"]["hyperparameters"]["n_epochs"] == "auto"
    assert job_params(RunConfig(num_epochs=2.4))["method"]["supervised"]["hyperparameters"]["n_epochs"] == 2


def test_retry_policy_is_exponential_jittered_and_capped():
    policy = RetryPolicy(attempts=8, base_s=1.0, cap_s=10.0, jitter=0.5)
    rng = random.Random(1)
    waits = [policy.delay(n, rng) for n in range(1, 8)]
    assert all(0.5 * min(10.0, 2 ** (n - 1)) <= w <= min(10.0, 2 ** (n - 1)) for n, w in enumerate(waits, 1))
    assert max(waits) <= 10.0
    assert policy.delay(1, rng, retry_after=4.0) == 4.0
    assert policy.delay(1, rng, retry_after=500.0) == 10.0


def test_key_echoed_by_the_server_is_scrubbed_from_events_and_errors(server, data, tmp_path):
    run_dir = tmp_path / "run"
    server.script = [Stage("running", [{"message": f"debug: request signed with {FAKE_KEY}"}, metrics(1, 2.0)]),
                     Stage("running", [metrics(2, 1.9)])]
    server.fail("GET", r"/v1/fine_tuning/jobs/[^/]+/checkpoints", 400, times=5, message=f"key {FAKE_KEY} not allowed")
    events = run(make_config(data, server.base_url), run_dir)
    failed = events[-1]
    assert isinstance(failed, Failed) and "[redacted key]" in failed.message and "(400)" in failed.message
    assert any(m.text == "debug: request signed with [redacted key]" for m in of(events, Message))
    assert_no_key_anywhere(run_dir, events, FAKE_KEY)


def test_network_lost_while_following_says_the_job_lives_on(server, data, tmp_path):
    server.fail("GET", r"/v1/fine_tuning/jobs/[^/]+", None, times=100)  # every poll: connection dropped
    events = run(make_config(data, server.base_url), tmp_path / "run")
    assert_one_terminal_last(events)
    failed = events[-1]
    (job_id,) = server.jobs
    assert isinstance(failed, Failed)
    assert failed.message == f"cannot reach {server.base_url}: check the network or OPENAI_BASE_URL"
    assert f"job {job_id} may still be running" in failed.hint and "openai_job.json" in failed.hint


# -- through the real worker (the path `ftui train` takes) --------------------------------------


@pytest.fixture
def fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    from ftui.train import openai_backend

    monkeypatch.setattr(openai_backend, "POLL_INTERVAL_S", 0.01)
    monkeypatch.setattr(openai_backend, "STOP_CHECK_S", 0.01)


def test_worker_runs_an_openai_job_and_no_file_in_the_run_dir_holds_the_key(server, data, tmp_path, fast_polling):
    from ftui.train.events import read_events, status_from_events
    from ftui.train.worker import start_run

    run_dir = tmp_path / "runs" / "oa"
    worker = start_run(make_config(data, server.base_url, output_dir=str(run_dir)))
    assert worker.join(timeout=20)
    events = read_events(run_dir / "events.jsonl")
    assert status_from_events(events) == "finished", [e.to_dict() for e in events][-3:]
    assert events[-1].adapter_path == FINE_TUNED_MODEL
    assert [e.step for e in of(events, Log)] == [1, 2, 3, 4, 5, 6]
    assert (run_dir / JOB_STATE_NAME).exists()
    assert_no_key_anywhere(run_dir, events, FAKE_KEY)


def test_worker_stop_cancels_the_job(server, data, tmp_path, fast_polling):
    from ftui.train.events import read_events
    from ftui.train.worker import start_run

    server.script = endless_script()
    run_dir = tmp_path / "runs" / "oa-stop"
    worker = start_run(make_config(data, server.base_url, output_dir=str(run_dir)))
    deadline = time.monotonic() + 10
    while not server.jobs or next(iter(server.jobs.values()))["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    worker.stop()
    assert worker.join(timeout=10)
    events = read_events(run_dir / "events.jsonl")
    assert events[-1].type == "stopped"
    assert next(iter(server.jobs.values()))["status"] == "cancelled"


def test_resume_of_an_unknown_job_explains_404(server, data, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / JOB_STATE_NAME).write_text(json.dumps({"id": "ftjob-gone", "model": "gpt-4o-mini-2024-07-18"}))
    events = run(make_config(data, server.base_url), run_dir)
    assert_one_terminal_last(events)
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.message.startswith("not found (404) while reading job ftjob-gone")
    assert "same account" in failed.hint


def test_a_service_without_checkpoints_endpoint_is_still_followed(server, data, tmp_path):
    server.fail("GET", r"/v1/fine_tuning/jobs/[^/]+/checkpoints", 404, times=100, message="Not found")
    events = run(make_config(data, server.base_url), tmp_path / "run")
    assert isinstance(events[-1], Finished) and of(events, Checkpoint) == []
    assert [e.step for e in of(events, Log)] == [1, 2, 3, 4, 5, 6]
    assert server.count("GET", r"/v1/fine_tuning/jobs/[^/]+/checkpoints") == 1  # asked once, then not again
    assert sum("no job checkpoints" in m.text for m in of(events, Message)) == 1

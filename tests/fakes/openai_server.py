"""A local stand-in for the OpenAI fine-tuning API, for tests with the real ``openai`` client.

Runs a ``ThreadingHTTPServer`` on 127.0.0.1 (ephemeral port) and implements the
endpoints ftui uses:

    POST /v1/files                                   multipart upload (purpose=fine-tune)
    POST /v1/fine_tuning/jobs                        create (body kept in ``create_bodies``)
    GET  /v1/fine_tuning/jobs?metadata[k]=v          list (metadata filter)
    GET  /v1/fine_tuning/jobs/{id}                   retrieve: each call advances the job one stage
    GET  /v1/fine_tuning/jobs/{id}/events            newest first, ``after`` / ``limit`` / ``has_more``
    GET  /v1/fine_tuning/jobs/{id}/checkpoints       newest first, same paging
    POST /v1/fine_tuning/jobs/{id}/cancel            cancel (400 once the job has ended)

A job follows a script: a list of :class:`Stage` (status, events, checkpoints, error).
Failures are injected with :meth:`FakeOpenAI.fail` (any status, ``Retry-After``, or a
dropped connection); a wrong key gets a 401 whose message echoes the key, as some
services do, so tests can prove ftui scrubs it.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

FINE_TUNED_MODEL = "ft:gpt-4o-mini-2024-07-18:fake-org::abc123"


@dataclass
class Stage:
    status: str
    events: list[dict[str, Any]] = field(default_factory=list)  # {"message": ...} or {"metrics": {...}}
    checkpoints: list[dict[str, Any]] = field(default_factory=list)  # {"step": n, "metrics": {...}}
    error: dict[str, Any] | None = None
    fine_tuned_model: str | None = None


def metrics(step: int, loss: float, acc: float | None = None, **extra: float) -> dict[str, Any]:
    data: dict[str, Any] = {"step": step, "train_loss": loss, "total_steps": 6}
    if acc is not None:
        data["train_mean_token_accuracy"] = acc
    data.update(extra)
    return {"metrics": data}


def happy_script() -> list[Stage]:
    """queued -> running with six metric steps and two checkpoints -> succeeded."""
    return [
        Stage("queued", [{"message": "Files validated, moving job to queued state"}]),
        Stage("running", [{"message": "Fine-tuning job started"}]),
        Stage("running", [metrics(1, 2.5, 0.30), metrics(2, 2.1, 0.40), metrics(3, 1.8, 0.50, valid_loss=1.9)],
              checkpoints=[{"step": 3, "metrics": {"step": 3, "train_loss": 1.8}}]),
        Stage("running", [metrics(4, 1.5, 0.55), metrics(5, 1.2, 0.60),
                          metrics(6, 1.0, 0.70, valid_loss=1.3, full_valid_loss=1.25)],
              checkpoints=[{"step": 6, "metrics": {"step": 6, "train_loss": 1.0}}]),
        Stage("succeeded", [{"message": "New fine-tuned model created"},
                            {"message": "The job has successfully completed"}], fine_tuned_model=FINE_TUNED_MODEL),
    ]


def failing_script() -> list[Stage]:
    return [
        Stage("running", [{"message": "Fine-tuning job started"}, metrics(1, 2.4)]),
        Stage("failed", [{"message": "The job failed due to an invalid training file.", "level": "error"}],
              error={"code": "invalid_training_file", "param": "training_file",
                     "message": "The job failed due to an invalid training file. Row 3 has too many tokens."}),
    ]


def endless_script() -> list[Stage]:
    """Runs until cancelled: a metric step on every poll (the last stage repeats)."""
    return [Stage("running", [{"message": "Fine-tuning job started"}, metrics(1, 2.0)])] + [
        Stage("running", [metrics(step, 2.0 - step * 0.01)]) for step in range(2, 400)
    ]


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int | None  # None: drop the connection without answering
    times: int
    message: str
    headers: dict[str, str]
    after: bool  # drop the connection AFTER doing the work (the reply is lost, the effect is not)


class FakeOpenAI:
    def __init__(self, api_key: str, script: list[Stage] | None = None) -> None:
        self.api_key = api_key
        self.script = script if script is not None else happy_script()
        self.files: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.create_bodies: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status answered)
        self.faults: list[Fault] = []
        self.lock = threading.Lock()
        self._counter = 0
        self._clock = 1_700_000_000
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- scripting ---------------------------------------------------------------------

    def fail(self, method: str, path_regex: str, status: int | None, times: int = 1, message: str = "injected",
             headers: dict[str, str] | None = None, after: bool = False) -> None:
        """The next ``times`` requests matching ``method`` and ``path_regex`` get ``status`` (None: dropped;
        with ``after`` the request is carried out first and only the reply is lost)."""
        self.faults.append(Fault(method, re.compile(path_regex), status, times, message, headers or {}, after))

    def add_job(self, job_id: str = "ftjob-existing", status: str = "running", model: str = "gpt-4o-mini-2024-07-18",
                script: list[Stage] | None = None) -> dict[str, Any]:
        """A job that exists already (for resume tests)."""
        with self.lock:
            job = self._new_job(job_id, {"model": model, "training_file": "file-old"}, script)
            job["status"] = status
            return job

    def count(self, method: str, path_regex: str) -> int:
        return sum(1 for m, p, _ in self.requests if m == method and re.fullmatch(path_regex, p))

    # -- state -------------------------------------------------------------------------

    def _next_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}-{self._counter:04d}"

    def _now(self) -> int:
        self._clock += 1
        return self._clock

    def _new_job(self, job_id: str, body: dict[str, Any], script: list[Stage] | None) -> dict[str, Any]:
        job = {
            "id": job_id, "object": "fine_tuning.job", "created_at": self._now(), "error": None,
            "fine_tuned_model": None, "finished_at": None, "model": body.get("model"),
            "organization_id": "org-fake", "result_files": [], "seed": body.get("seed") or 0,
            "status": "validating_files", "trained_tokens": None, "training_file": body.get("training_file"),
            "validation_file": body.get("validation_file"), "metadata": body.get("metadata"),
            "hyperparameters": ((body.get("method") or {}).get("supervised") or {}).get("hyperparameters") or {},
            "method": body.get("method"), "suffix": body.get("suffix"),
            "_script": list(script if script is not None else self.script), "_events": [], "_checkpoints": [],
        }
        self.jobs[job_id] = job
        self._add_event(job, {"message": f"Validating training file: {body.get('training_file')}"})
        return job

    def _add_event(self, job: dict[str, Any], spec: dict[str, Any]) -> None:
        event = {"id": self._next_id("ftevent"), "object": "fine_tuning.job.event", "created_at": self._now(),
                 "level": spec.get("level", "info"), "type": "message", "data": {}, "message": spec.get("message", "")}
        if "metrics" in spec:
            event.update(type="metrics", data=spec["metrics"], message=f"Step {spec['metrics']['step']}")
        job["_events"].append(event)

    def _advance(self, job: dict[str, Any]) -> None:
        if job["status"] in ("succeeded", "failed", "cancelled") or not job["_script"]:
            return
        stage = job["_script"].pop(0)
        for spec in stage.events:
            self._add_event(job, spec)
        for spec in stage.checkpoints:
            job["_checkpoints"].append({
                "id": self._next_id("ftckpt"), "object": "fine_tuning.job.checkpoint", "created_at": self._now(),
                "fine_tuned_model_checkpoint": f"{FINE_TUNED_MODEL}:ckpt-step-{spec['step']}",
                "fine_tuning_job_id": job["id"], "metrics": spec.get("metrics", {}), "step_number": spec["step"],
            })
        job["status"] = stage.status
        if stage.error:
            job["error"] = stage.error
        if stage.fine_tuned_model:
            job["fine_tuned_model"] = stage.fine_tuned_model
            job["trained_tokens"] = 12345
        if stage.status in ("succeeded", "failed"):
            job["finished_at"] = self._now()

    @staticmethod
    def _public(job: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in job.items() if not k.startswith("_")}

    @staticmethod
    def _page(items: list[dict[str, Any]], query: dict[str, list[str]]) -> dict[str, Any]:
        """Newest first; ``after`` = an id: the items after it in that order (older ones)."""
        newest_first = list(reversed(items))
        after = query.get("after", [None])[0]
        if after:
            ids = [i["id"] for i in newest_first]
            newest_first = newest_first[ids.index(after) + 1:] if after in ids else []
        limit = int(query.get("limit", ["20"])[0])
        return {"object": "list", "data": newest_first[:limit], "has_more": len(newest_first) > limit}

    # -- HTTP --------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms Nagle/delayed-ACK stall per reply
            wbufsize = -1  # headers and body leave in one write

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                fake._dispatch(self, "GET")

            def do_POST(self) -> None:
                fake._dispatch(self, "POST")

        return Handler

    @staticmethod
    def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
        if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(handler.rfile.readline().strip(), 16)
                if size == 0:
                    handler.rfile.readline()
                    return b"".join(chunks)
                chunks.append(handler.rfile.read(size))
                handler.rfile.readline()
        length = int(handler.headers.get("Content-Length") or 0)
        return handler.rfile.read(length) if length else b""

    def _send(self, handler: BaseHTTPRequestHandler, method: str, path: str, status: int, payload: Any,
              headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        with self.lock:
            self.requests.append((method, path, status))
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    def _error(self, handler: BaseHTTPRequestHandler, method: str, path: str, status: int, message: str,
               headers: dict[str, str] | None = None, param: str | None = None) -> None:
        payload = {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": None}}
        self._send(handler, method, path, status, payload, headers)

    def _dispatch(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        path, query = url.path, parse_qs(url.query)
        body = self._read_body(handler)
        with self.lock:
            fault = next((f for f in self.faults if f.times > 0 and f.method == method and f.pattern.fullmatch(path)),
                         None)
            if fault:
                fault.times -= 1
        if fault is not None:
            if fault.after:
                self._route(method, path, query, body, handler.headers.get("Content-Type", ""))
            if fault.status is None:
                with self.lock:
                    self.requests.append((method, path, 0))
                handler.close_connection = True
                handler.connection.shutdown(socket.SHUT_RDWR)
                return
            self._error(handler, method, path, fault.status, fault.message, fault.headers)
            return
        given = handler.headers.get("Authorization", "")
        if given != f"Bearer {self.api_key}":
            shown = given.removeprefix("Bearer ")
            self._error(handler, method, path, 401, f"Incorrect API key provided: {shown}. You can find your key...")
            return
        try:
            status, payload = self._route(method, path, query, body, handler.headers.get("Content-Type", ""))
        except KeyError as exc:
            self._error(handler, method, path, 404, f"No such object: {exc}")
            return
        if status >= 400:
            self._error(handler, method, path, status, payload)
        else:
            self._send(handler, method, path, status, payload)

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: bytes, ctype: str) -> tuple[int, Any]:
        with self.lock:
            if method == "POST" and path == "/v1/files":
                return self._upload(body, ctype)
            if method == "POST" and path == "/v1/fine_tuning/jobs":
                data = json.loads(body)
                self.create_bodies.append(data)
                if data.get("training_file") not in self.files:
                    return 400, f"invalid training_file: {data.get('training_file')}"
                job = self._new_job(self._next_id("ftjob"), data, None)
                return 200, self._public(job)
            if method == "GET" and path == "/v1/fine_tuning/jobs":
                wanted = {k[len("metadata["):-1]: v[0] for k, v in query.items() if k.startswith("metadata[")}
                found = [self._public(j) for j in self.jobs.values()
                         if all((j.get("metadata") or {}).get(k) == v for k, v in wanted.items())]
                return 200, self._page(found, query)
            match = re.fullmatch(r"/v1/fine_tuning/jobs/([^/]+)(/events|/checkpoints|/cancel)?", path)
            if not match:
                return 404, f"unknown route {method} {path}"
            job = self.jobs[match.group(1)]
            tail = match.group(2)
            if method == "GET" and tail is None:
                self._advance(job)
                return 200, self._public(job)
            if method == "GET" and tail == "/events":
                return 200, self._page(job["_events"], query)
            if method == "GET" and tail == "/checkpoints":
                return 200, self._page(job["_checkpoints"], query)
            if method == "POST" and tail == "/cancel":
                if job["status"] in ("succeeded", "failed", "cancelled"):
                    return 400, f"Job {job['id']} has already ended ({job['status']})"
                job["status"] = "cancelled"
                self._add_event(job, {"message": "Job cancelled"})
                return 200, self._public(job)
            return 404, f"unknown route {method} {path}"

    def _upload(self, body: bytes, ctype: str) -> tuple[int, Any]:
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
        fields: dict[str, Any] = {}
        filename = None
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if part.get_filename():
                filename = part.get_filename()
            fields[name] = part.get_payload(decode=True)
        if fields.get("purpose") != b"fine-tune":
            return 400, f"purpose must be fine-tune, got {fields.get('purpose')!r}"
        content = fields.get("file") or b""
        file_id = self._next_id("file")
        self.files[file_id] = {"filename": filename, "content": content}
        return 200, {"id": file_id, "object": "file", "bytes": len(content), "created_at": self._now(),
                     "filename": filename, "purpose": "fine-tune", "status": "processed"}


def closed_port_url() -> str:
    """A base URL where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"

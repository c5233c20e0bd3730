"""The idle-shutdown agent: its decision on recorded outputs, and its calls to Azure.

The agent runs on the VM; here its decision reads outputs recorded from ``who``, ``ss``,
``nvidia-smi`` and ``/proc/stat`` (tests/infra/fixtures/idle), and its HTTP calls go to a
loopback server that answers as IMDS and Azure Resource Manager document it.
"""

from __future__ import annotations

import ast
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mlstart_infra.components import idle_agent as agent

FIXTURES = Path(__file__).parent / "fixtures" / "idle"
SUB = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
VM_ID = (
    f"/subscriptions/{SUB}/resourceGroups/rg-demo-dev/providers/Microsoft.Compute/"
    "virtualMachines/vm-demo"
)
TAGS = {agent.MINUTES_TAG: "15m", agent.CPU_TAG: "10", agent.GPU_TAG: "5", "project": "demo"}
THRESHOLDS = agent.Thresholds(minutes=15, cpu_percent=10, gpu_percent=5)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


# ---------------------------------------------------------------- parsing recorded outputs


def test_sessions_and_connections_are_counted_from_recorded_output() -> None:
    assert agent.count_lines(fixture("who_ssh.txt")) == 1
    assert agent.count_lines(fixture("who_console_and_ssh.txt")) == 2
    assert agent.count_lines(fixture("who_empty.txt")) == 0
    assert agent.count_lines(fixture("ss_two_connections.txt")) == 2
    assert agent.count_lines(fixture("ss_empty.txt")) == 0


def test_gpu_utilization_is_read_per_gpu_and_refuses_what_is_not_a_number() -> None:
    assert agent.parse_gpu_utilization(fixture("nvidia_busy.txt")) == (87.0,)
    assert agent.parse_gpu_utilization(fixture("nvidia_idle.txt")) == (0.0,)
    assert agent.parse_gpu_utilization(fixture("nvidia_two_one_busy.txt")) == (0.0, 43.0)
    for bad in ("nvidia_not_available.txt", "nvidia_driver_error.txt"):
        with pytest.raises(agent.AgentError, match="not a utilization"):
            agent.parse_gpu_utilization(fixture(bad))


def test_cpu_utilization_between_two_recorded_samples() -> None:
    start = agent.cpu_times(fixture("proc_stat_start.txt"))
    idle = agent.cpu_times(fixture("proc_stat_idle_minute.txt"))
    busy = agent.cpu_times(fixture("proc_stat_busy_minute.txt"))
    assert agent.cpu_percent(start, idle) == pytest.approx(2.0)
    assert agent.cpu_percent(start, busy) == pytest.approx(50.0)
    assert agent.cpu_percent(None, idle) is None  # no earlier sample: unknown, not idle
    assert agent.cpu_percent(idle, start) is None  # counters went back: a reboot
    with pytest.raises(agent.AgentError, match="no readable 'cpu' line"):
        agent.cpu_times("intr 1 2 3\n")


def test_a_failing_command_reads_as_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nvidia-smi without its driver exits non-zero: the signal is unknown, never idle."""
    fake = tmp_path / "nvidia-smi"
    fake.write_text(f"#!/bin/sh\ncat '{FIXTURES / 'nvidia_driver_error.txt'}'\nexit 9\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert agent.run_command(agent.NVIDIA_SMI) is None
    assert agent.run_command(("not-installed-anywhere",)) is None
    signals = agent.read_signals(agent.run_command, 1.0)
    assert signals.gpu_percents is None and signals.sessions is None
    assert "GPU utilization cannot be read" in " ".join(
        agent.busy_reasons(signals, THRESHOLDS, gpu=True)
    )


# ---------------------------------------------------------------- the decision


def recorded(who: str, ss: str, smi: str | None) -> Callable[[Sequence[str]], str | None]:
    """A command runner that answers with recorded outputs (None: the command failed)."""
    outputs = {agent.WHO: fixture(who), agent.SS: fixture(ss)}
    outputs[agent.NVIDIA_SMI] = fixture(smi) if smi else None  # type: ignore[assignment]
    return lambda command: outputs[tuple(command)]


IDLE_CPU = agent.cpu_percent(
    agent.cpu_times(fixture("proc_stat_start.txt")),
    agent.cpu_times(fixture("proc_stat_idle_minute.txt")),
)
BUSY_CPU = agent.cpu_percent(
    agent.cpu_times(fixture("proc_stat_start.txt")),
    agent.cpu_times(fixture("proc_stat_busy_minute.txt")),
)


@pytest.mark.parametrize(
    ("who", "ss", "smi", "cpu", "gpu", "reason"),
    [
        ("who_ssh.txt", "ss_empty.txt", "nvidia_idle.txt", IDLE_CPU, True, "1 login session"),
        ("who_empty.txt", "ss_two_connections.txt", "nvidia_idle.txt", IDLE_CPU, True,
         "2 SSH connection"),
        ("who_empty.txt", "ss_empty.txt", "nvidia_busy.txt", IDLE_CPU, True, "GPU at 87%"),
        ("who_empty.txt", "ss_empty.txt", "nvidia_two_one_busy.txt", IDLE_CPU, True, "GPU at 43%"),
        ("who_empty.txt", "ss_empty.txt", "nvidia_not_available.txt", IDLE_CPU, True,
         "GPU utilization cannot be read"),
        ("who_empty.txt", "ss_empty.txt", None, IDLE_CPU, True, "GPU utilization cannot be read"),
        ("who_empty.txt", "ss_empty.txt", "nvidia_idle.txt", BUSY_CPU, True, "CPU at 50.0%"),
        ("who_empty.txt", "ss_empty.txt", "nvidia_idle.txt", None, True, "no CPU sample"),
    ],
)  # fmt: skip
def test_each_busy_signal_keeps_the_vm_on(
    who: str, ss: str, smi: str | None, cpu: float | None, gpu: bool, reason: str
) -> None:
    signals = agent.read_signals(recorded(who, ss, smi), cpu)
    reasons = agent.busy_reasons(signals, THRESHOLDS, gpu=gpu)
    assert any(r.startswith(reason) for r in reasons), reasons
    decision = agent.decide(10_000.0, 0.0, reasons, THRESHOLDS)  # idle "since" long ago
    assert not decision.deallocate and decision.idle_since is None
    assert decision.message.startswith("busy: ")


def test_idle_everywhere_deallocates_only_after_the_idle_minutes() -> None:
    signals = agent.read_signals(recorded("who_empty.txt", "ss_empty.txt", "nvidia_idle.txt"), 2.0)
    assert agent.busy_reasons(signals, THRESHOLDS, gpu=True) == []
    first = agent.decide(1_000.0, None, [], THRESHOLDS)
    assert (first.idle_since, first.deallocate) == (1_000.0, False)
    almost = agent.decide(1_000.0 + 14 * 60, first.idle_since, [], THRESHOLDS)
    assert not almost.deallocate and "idle for 14 of 15 minutes" in almost.message
    due = agent.decide(1_000.0 + 15 * 60, first.idle_since, [], THRESHOLDS)
    assert due.deallocate and due.idle_since == 1_000.0


def test_a_vm_without_gpu_needs_no_nvidia_smi() -> None:
    signals = agent.read_signals(recorded("who_empty.txt", "ss_empty.txt", None), 2.0)
    assert agent.busy_reasons(signals, THRESHOLDS, gpu=False) == []
    assert agent.busy_reasons(signals, THRESHOLDS, gpu=True) != []


counts = st.one_of(st.none(), st.integers(0, 3))
percents = st.floats(0, 100, allow_nan=False)


@given(
    sessions=counts,
    ssh=counts,
    gpus=st.one_of(st.none(), st.lists(percents, max_size=3).map(tuple)),
    cpu=st.one_of(st.none(), percents),
    gpu=st.booleans(),
    minutes=st.integers(15, 120),
    cpu_limit=st.integers(1, 100),
    gpu_limit=st.integers(1, 100),
    idle_for=st.one_of(st.none(), st.floats(0, 200 * 60)),
)
def test_it_deallocates_exactly_when_every_idle_condition_holds(
    sessions: int | None,
    ssh: int | None,
    gpus: tuple[float, ...] | None,
    cpu: float | None,
    gpu: bool,
    minutes: int,
    cpu_limit: int,
    gpu_limit: int,
    idle_for: float | None,
) -> None:
    now = 1_000_000.0
    thresholds = agent.Thresholds(minutes, cpu_limit, gpu_limit)
    signals = agent.Signals(sessions, ssh, gpus, cpu)
    reasons = agent.busy_reasons(signals, thresholds, gpu=gpu)
    decision = agent.decide(now, None if idle_for is None else now - idle_for, reasons, thresholds)
    gpu_idle = (not gpu and gpus is None) or (
        gpus is not None and (bool(gpus) or not gpu) and all(g < gpu_limit for g in gpus)
    )
    every_condition = (
        sessions == 0 and ssh == 0 and gpu_idle and cpu is not None and cpu < cpu_limit
    )
    assert (reasons == []) == every_condition
    long_enough = idle_for is not None and idle_for >= minutes * 60
    assert decision.deallocate == (every_condition and long_enough)


# ---------------------------------------------------------------- tags and configuration


def test_thresholds_come_from_the_tags() -> None:
    assert agent.thresholds_from_tags(TAGS) == THRESHOLDS
    upper = {"Idle-Shutdown": "60M", "IDLE-SHUTDOWN-CPU-PERCENT": "10%", agent.GPU_TAG: "5"}
    assert agent.thresholds_from_tags(upper) == agent.Thresholds(60, 10, 5)
    assert agent.thresholds_from_tags({agent.MINUTES_TAG: "off"}) is None
    assert agent.thresholds_from_tags({"project": "demo"}) is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({agent.MINUTES_TAG: "14m"}, "must be 'off' or minutes"),
        ({agent.MINUTES_TAG: "an hour"}, "must be 'off' or minutes"),
        ({agent.MINUTES_TAG: "1441"}, "must be 'off' or minutes"),
        ({agent.CPU_TAG: "0"}, "percentage from 1 to 100"),
        ({agent.GPU_TAG: "lots"}, "percentage from 1 to 100"),
    ],
)
def test_bad_tags_are_refused_in_one_line(change: dict[str, str], message: str) -> None:
    with pytest.raises(agent.AgentError, match=message) as raised:
        agent.thresholds_from_tags({**TAGS, **change})
    assert "\n" not in str(raised.value)


def test_configuration_file(tmp_path: Path) -> None:
    path = tmp_path / "idle-shutdown.json"
    path.write_text('{"gpu": false}')
    assert agent.load_config(path) == agent.AgentConfig(gpu=False)
    path.write_text('{"gpu": "yes"}')
    with pytest.raises(agent.AgentError, match="'gpu' is true or false"):
        agent.load_config(path)
    with pytest.raises(agent.AgentError, match="cannot read the configuration"):
        agent.load_config(tmp_path / "missing.json")


def test_the_agent_is_one_python_310_file_of_the_standard_library() -> None:
    """It is copied alone to Ubuntu 22.04, whose python3 is 3.10."""
    import sys

    source = Path(agent.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source, feature_version=(3, 10))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports: the file stands alone on the VM"
            assert (node.module or "").split(".")[0] in sys.stdlib_module_names | {"__future__"}
        elif isinstance(node, ast.Import):
            assert all(a.name.split(".")[0] in sys.stdlib_module_names for a in node.names)


# ---------------------------------------------------------------- Azure, on a loopback server


@dataclass
class Route:
    """How the fake Azure answers one route: status, JSON body (or raw bytes), delay."""

    status: int = 200
    body: Any = None
    delay: float = 0.0


@dataclass
class FakeAzure:
    """IMDS and Resource Manager on one loopback port, answering in their documented formats."""

    routes: dict[tuple[str, str], Route] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, list[str]], dict[str, str]]] = field(
        default_factory=list
    )
    url: str = ""

    def calls(self, method: str, path: str) -> int:
        return sum(1 for m, p, _, _ in self.requests if (m, p) == (method, path))


IMDS_COMPUTE = "/metadata/instance/compute"
IMDS_TOKEN = "/metadata/identity/oauth2/token"
DEALLOCATE = f"{VM_ID}/deallocate"
TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.test-token.signature"


def compute_metadata(tags: dict[str, str]) -> dict[str, Any]:
    """IMDS's compute metadata (api-version 2021-02-01), the fields the docs show."""
    return {
        "azEnvironment": "AzurePublicCloud",
        "location": "westeurope",
        "name": "vm-demo",
        "osType": "Linux",
        "resourceGroupName": "rg-demo-dev",
        "resourceId": VM_ID,
        "subscriptionId": SUB,
        "tags": ";".join(f"{k}:{v}" for k, v in tags.items()),
        "tagsList": [{"name": k, "value": v} for k, v in tags.items()],
        "vmId": "02aab8a4-74ef-476e-8182-f6d2ba4166a6",
        "vmSize": "Standard_NC4as_T4_v3",
    }


def token_response() -> dict[str, str]:
    """IMDS's managed-identity token response."""
    return {
        "access_token": TOKEN,
        "client_id": "5a2b7c8e-0000-4000-8000-000000000001",
        "expires_in": "86399",
        "expires_on": "1764144000",
        "ext_expires_in": "86399",
        "not_before": "1764057300",
        "resource": "https://management.azure.com/",
        "token_type": "Bearer",
    }


def vm_response(tags: dict[str, str]) -> dict[str, Any]:
    """Virtual Machines - Get: the envelope with the tags."""
    return {
        "name": "vm-demo",
        "id": VM_ID,
        "type": "Microsoft.Compute/virtualMachines",
        "location": "westeurope",
        "tags": tags,
        "properties": {"vmId": "02aab8a4-74ef-476e-8182-f6d2ba4166a6"},
    }


def arm_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def default_routes() -> dict[tuple[str, str], Route]:
    return {
        ("GET", IMDS_COMPUTE): Route(body=compute_metadata(TAGS)),
        ("GET", IMDS_TOKEN): Route(body=token_response()),
        ("GET", VM_ID): Route(body=vm_response(TAGS)),
        ("POST", DEALLOCATE): Route(status=202, body=b""),
    }


@pytest.fixture(scope="module")
def server() -> Iterator[FakeAzure]:
    """One loopback server for the module; each test gets it with fresh routes."""
    fake = FakeAzure()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.answer("GET")

        def do_POST(self) -> None:
            self.answer("POST")

        def answer(self, method: str) -> None:
            parts = urlsplit(self.path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            fake.requests.append((method, parts.path, parse_qs(parts.query), headers))
            if method == "POST":
                self.rfile.read(int(headers.get("content-length", "0")))
            if parts.path.startswith("/metadata/") and headers.get("metadata") != "true":
                missing = "Required metadata header not specified"
                route = Route(400, {"error": "invalid_request", "error_description": missing})
            elif not parts.path.startswith("/metadata/") and (
                headers.get("authorization") != f"Bearer {TOKEN}"
            ):
                route = Route(401, arm_error("AuthenticationFailed", "no valid bearer token"))
            else:
                route = fake.routes.get((method, parts.path), Route(404, arm_error("NotFound", "")))
            time.sleep(route.delay)
            body = route.body if isinstance(route.body, bytes) else json.dumps(route.body).encode()
            try:
                self.send_response(route.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                if route.status == 202:
                    self.send_header("Location", f"{fake.url}/operations/1?api-version=2024-11-01")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the agent gave up waiting (the timeout tests)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    fake.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def azure(server: FakeAzure) -> FakeAzure:
    server.routes = default_routes()
    server.requests.clear()
    return server


class IdleVm:
    """A machine that stays idle: recorded idle outputs, an idle CPU minute per run."""

    def __init__(self, start: float = 1_764_057_600.0) -> None:
        self.now = start
        self.boot = "5f0e4a7a-6f4e-4e38-9a41-6c1e8cf0d7a1"
        self.stat = agent.cpu_times(fixture("proc_stat_start.txt"))
        step = agent.cpu_times(fixture("proc_stat_idle_minute.txt"))
        self.step = (step[0] - self.stat[0], step[1] - self.stat[1])
        self.run = recorded("who_empty.txt", "ss_empty.txt", "nvidia_idle.txt")

    def machine(self) -> agent.Machine:
        return agent.Machine(
            run=lambda command: self.run(command),
            proc_stat=lambda: f"cpu  {self.stat[0]} 0 0 {self.stat[1] - self.stat[0]} 0 0 0 0\n",
            boot_id=lambda: self.boot,
            clock=lambda: self.now,
        )

    def minute(self) -> None:
        self.now += 60
        self.stat = (self.stat[0] + self.step[0], self.stat[1] + self.step[1])


def run_minutes(
    vm: IdleVm, azure: FakeAzure, state: Path, minutes: int, *, timeout: float = 5
) -> list[agent.Outcome]:
    config = agent.AgentConfig(gpu=True, imds_url=azure.url, arm_url=azure.url)
    client = agent.Azure(azure.url, azure.url, timeout=timeout)
    outcomes = []
    for _ in range(minutes):
        outcomes.append(agent.run_once(config, client, state, vm.machine()))
        vm.minute()
    return outcomes


def test_an_idle_vm_is_deallocated_after_its_minutes_and_once(
    azure: FakeAzure, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    vm = IdleVm()
    outcomes = run_minutes(vm, azure, state, 17)
    done = [i for i, o in enumerate(outcomes) if o.deallocated]
    # Run 0 has no CPU sample; runs 1.. are idle; 15 minutes after run 1 it deallocates.
    assert done == [16], [o.lines for o in outcomes]
    assert outcomes[16].lines[-1] == f"deallocation of {VM_ID} accepted (HTTP 202)"
    assert azure.calls("POST", DEALLOCATE) == 1
    _, _, query, headers = next(r for r in azure.requests if r[0] == "POST")
    assert query == {"api-version": [agent.COMPUTE_API]}
    assert headers["authorization"] == f"Bearer {TOKEN}"
    (token_query,) = [r[2] for r in azure.requests if r[1] == IMDS_TOKEN]
    assert token_query == {
        "api-version": [agent.IMDS_TOKEN_API],
        "resource": [azure.url + "/"],  # the Resource Manager audience
    }
    compute_queries = [r[2] for r in azure.requests if r[1] == IMDS_COMPUTE]
    assert compute_queries[0] == {"api-version": [agent.IMDS_INSTANCE_API]}
    # Azure accepted it: the next runs wait instead of asking again.
    later = run_minutes(vm, azure, state, 2)
    assert not any(o.deallocated for o in later)
    assert "less than 10 minutes ago" in later[-1].lines[-1]
    assert azure.calls("POST", DEALLOCATE) == 1


def test_a_new_boot_starts_the_idle_clock_again(azure: FakeAzure, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    vm = IdleVm()
    run_minutes(vm, azure, state, 10)
    assert json.loads(state.read_text())["idle_since"] is not None
    vm.boot = "9d3b2f0c-1111-4c22-8333-444455556666"  # deallocated overnight, started again
    outcomes = run_minutes(vm, azure, state, 10)
    assert not any(o.deallocated for o in outcomes)
    assert azure.calls("POST", DEALLOCATE) == 0


def test_idle_shutdown_off_in_the_tags_does_nothing(azure: FakeAzure, tmp_path: Path) -> None:
    azure.routes[("GET", IMDS_COMPUTE)] = Route(body=compute_metadata({agent.MINUTES_TAG: "off"}))
    outcomes = run_minutes(IdleVm(), azure, tmp_path / "state.json", 20)
    assert all("idle shutdown is off" in o.lines[-1] for o in outcomes)
    assert azure.calls("GET", IMDS_TOKEN) == azure.calls("POST", DEALLOCATE) == 0


def test_resource_manager_has_the_last_word_on_the_tags(azure: FakeAzure, tmp_path: Path) -> None:
    """IMDS may lag behind a tag change: the agent checks ARM before it deallocates."""
    azure.routes[("GET", VM_ID)] = Route(body=vm_response({agent.MINUTES_TAG: "off"}))
    outcomes = run_minutes(IdleVm(), azure, tmp_path / "state.json", 17)
    assert "idle shutdown is off now: not deallocating" in outcomes[16].lines[-1]
    assert azure.calls("POST", DEALLOCATE) == 0


@pytest.mark.parametrize(
    ("route", "answer", "logged"),
    [
        (("GET", IMDS_TOKEN), Route(400, {"error": "invalid_request", "error_description":
                                          "Identity not found"}), "HTTP 400: invalid_request"),
        (("GET", IMDS_TOKEN), Route(500, {"error": "unknown", "error_description": "x"}),
         "HTTP 500"),
        (("GET", IMDS_TOKEN), Route(200, b"{not json"), "malformed JSON"),
        (("GET", IMDS_TOKEN), Route(200, {"token_type": "Bearer"}), "without an access_token"),
        (("GET", VM_ID), Route(403, arm_error("AuthorizationFailed", "no read on the VM")),
         "HTTP 403: AuthorizationFailed: no read on the VM"),
        (("POST", DEALLOCATE), Route(401, arm_error("InvalidAuthenticationToken", "expired")),
         "HTTP 401: InvalidAuthenticationToken"),
        (("POST", DEALLOCATE), Route(403, arm_error("AuthorizationFailed", "no deallocate")),
         "HTTP 403: AuthorizationFailed"),
        (("POST", DEALLOCATE), Route(500, arm_error("InternalServerError", "try later")),
         "HTTP 500: InternalServerError"),
        (("POST", DEALLOCATE), Route(409, arm_error("Conflict", "operation in progress")),
         "HTTP 409"),
        (("POST", DEALLOCATE), Route(202, b"", delay=0.5), "cannot be reached"),
    ],
)  # fmt: skip
def test_azure_errors_are_logged_and_retried_never_raised(
    azure: FakeAzure, tmp_path: Path, route: tuple[str, str], answer: Route, logged: str
) -> None:
    azure.routes[route] = answer
    state = tmp_path / "state.json"
    vm = IdleVm()
    outcomes = run_minutes(vm, azure, state, 17, timeout=0.2)
    assert not any(o.deallocated for o in outcomes)
    last = outcomes[16].lines[-1]
    assert last.startswith("<3>") and logged in last and last.endswith("trying again next run")
    # The idle clock keeps running: the next run asks again.
    before = azure.calls(*route)
    run_minutes(vm, azure, state, 1, timeout=0.2)
    assert azure.calls(*route) == before + 1


@pytest.mark.parametrize(
    "answer",
    [Route(500, {"error": "unknown"}), Route(200, b"<html>"), Route(200, {"name": "vm-demo"}),
     Route(200, {"resourceId": VM_ID, "tagsList": "idle-shutdown:15m"}),
     Route(200, body=compute_metadata(TAGS), delay=0.5)],
)  # fmt: skip
def test_without_readable_metadata_the_vm_is_not_idle(
    azure: FakeAzure, tmp_path: Path, answer: Route
) -> None:
    azure.routes[("GET", IMDS_COMPUTE)] = answer
    outcomes = run_minutes(IdleVm(), azure, tmp_path / "state.json", 2, timeout=0.2)
    assert all(o.lines[-1].startswith("<3>") and "not idle" in o.lines[-1] for o in outcomes)
    assert azure.calls("GET", IMDS_TOKEN) == 0


def test_imds_requests_carry_the_metadata_header(azure: FakeAzure) -> None:
    client = agent.Azure(azure.url, azure.url)
    assert client.instance() == (VM_ID, TAGS)
    assert client.token() == TOKEN
    assert all(r[3].get("metadata") == "true" for r in azure.requests)


def test_main_runs_once_and_logs(
    azure: FakeAzure, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "idle-shutdown.json"
    config.write_text(json.dumps({"gpu": True, "imds_url": azure.url, "arm_url": azure.url}))
    state = tmp_path / "state" / "state.json"
    assert agent.main(["--config", str(config), "--state", str(state)]) == 0
    assert json.loads(state.read_text())["boot_id"]
    assert capsys.readouterr().out.strip()
    config.write_text("[1, 2]")
    assert agent.main(["--config", str(config), "--state", str(state)]) == 1
    assert capsys.readouterr().out.startswith("<3>")


def test_a_corrupt_state_file_starts_afresh(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{half")
    assert agent.load_state(state, "boot") == agent.State("boot")
    saved = agent.State("boot", 1.0, (2, 3), 4.0, None)
    agent.save_state(state, saved)
    assert agent.load_state(state, "boot") == saved
    assert agent.load_state(state, "another boot") == agent.State("another boot")

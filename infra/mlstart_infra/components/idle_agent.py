#!/usr/bin/env python3
"""Idle shutdown agent: deallocate this Azure VM once it has been idle for N minutes.

Installed on the GPU workstation by cloud-init (see ``idle_shutdown.py``, which writes this
very file to the VM) and run every minute by a systemd timer. Each run:

1. reads the VM's tags from the Azure Instance Metadata Service (IMDS): ``idle-shutdown``
   (``60m``, or ``off``), ``idle-shutdown-cpu-percent`` and ``idle-shutdown-gpu-percent``.
   The thresholds live in tags, not in this file's configuration, because Azure cannot
   change a VM's custom data after it is created while tags change in place;
2. reads what says someone is working: login sessions (``who``), established SSH
   connections (``ss``; editors and tunnels connect without a terminal), GPU utilization
   (``nvidia-smi``) and CPU utilization since the last run (``/proc/stat``);
3. the VM is idle when there is no session and no SSH connection and GPU and CPU are below
   their thresholds. A signal that cannot be read counts as busy (a GPU VM whose
   ``nvidia-smi`` fails is not idle), so the agent errs towards leaving the VM on;
4. once it has been idle for N minutes in a row, it asks IMDS for a token of the VM's
   system-assigned managed identity, reads the VM from Azure Resource Manager to confirm
   the tags there still ask for idle shutdown, and calls ``deallocate``. The identity holds
   a custom role that can only read and deallocate this one VM.

An HTTP error is logged and retried on the next run; it never ends the timer. Logs go to
standard output, which systemd sends to the journal (``journalctl -u mlstart-idle-shutdown``).

Standard library only, Python 3.10 (Ubuntu 22.04's python3).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

#: The VM tags that configure the agent (the program sets them from the stack config).
MINUTES_TAG = "idle-shutdown"
CPU_TAG = "idle-shutdown-cpu-percent"
GPU_TAG = "idle-shutdown-gpu-percent"
#: The ``idle-shutdown`` tag's value when idle shutdown is turned off.
OFF = "off"
#: Accepted idle minutes (the same bounds as the template's question).
MIN_MINUTES, MAX_MINUTES = 15, 1440

#: IMDS answers on this link-local address only, from inside the VM, and must be reached
#: without a proxy: https://learn.microsoft.com/en-us/azure/virtual-machines/instance-metadata-service
IMDS_URL = "http://169.254.169.254"
#: The compute metadata (``resourceId``, ``tagsList``) of that page's examples.
IMDS_INSTANCE_API = "2021-02-01"
#: A managed identity's token from IMDS:
#: https://learn.microsoft.com/en-us/entra/identity/managed-identities-azure-resources/how-to-use-vm-token
IMDS_TOKEN_API = "2018-02-01"
#: Azure Resource Manager (the public cloud; the config file may name a sovereign cloud's).
ARM_URL = "https://management.azure.com"
#: Virtual Machines - Get and - Deallocate (200 OK or 202 Accepted), the version
#: pulumi-azure-native's VirtualMachine uses:
#: https://learn.microsoft.com/en-us/rest/api/compute/virtual-machines/deallocate
COMPUTE_API = "2024-11-01"

CONFIG_FILE = "/etc/mlstart/idle-shutdown.json"
STATE_FILE = "state.json"
BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id"
PROC_STAT = "/proc/stat"
SSH_PORT = 22
#: Seconds an HTTP request or a probe command may take.
TIMEOUT = 10
#: A CPU sample older than this (seconds) says nothing about the last minute.
SAMPLE_MAX_AGE = 300
#: After Azure accepted a deallocation, wait this long (seconds) before asking again.
REQUEST_PAUSE = 600

#: Prefixes systemd reads as the journal priority of a line written to standard output
#: (SyslogLevelPrefix=, on by default): https://www.freedesktop.org/software/systemd/man/latest/sd-daemon.html
_ERROR, _WARNING = "<3>", "<4>"


class AgentError(Exception):
    """Something the agent could not read or do; one line that says what."""


# ---------------------------------------------------------------- configuration


@dataclass(frozen=True)
class Thresholds:
    """When the VM counts as idle, and for how long before it is deallocated.

    Attributes:
        minutes: Idle minutes in a row before the deallocation.
        cpu_percent: Average CPU utilization over all cores below which the VM is idle.
        gpu_percent: Utilization below which every GPU is idle.
    """

    minutes: int
    cpu_percent: float
    gpu_percent: float


def thresholds_from_tags(tags: Mapping[str, str]) -> Thresholds | None:
    """Read the thresholds from the VM's tags.

    Returns:
        The thresholds, or None when idle shutdown is off (``idle-shutdown: off``) or the
        tag is absent.

    Raises:
        AgentError: If a tag holds a value the agent cannot use.
    """
    tags = {str(key).lower(): str(value) for key, value in tags.items()}  # names: any case
    raw = tags.get(MINUTES_TAG, "").strip().lower()
    if raw in ("", OFF):
        return None
    number = raw[:-1] if raw.endswith("m") else raw
    if not number.isdigit() or not MIN_MINUTES <= int(number) <= MAX_MINUTES:
        raise AgentError(
            f"tag {MINUTES_TAG}={raw!r} must be {OFF!r} or minutes like '60m' "
            f"({MIN_MINUTES}-{MAX_MINUTES})"
        )
    return Thresholds(int(number), _percent_tag(tags, CPU_TAG), _percent_tag(tags, GPU_TAG))


def _percent_tag(tags: Mapping[str, str], key: str) -> float:
    raw = tags.get(key, "").strip().rstrip("%")
    try:
        value = float(raw)
    except ValueError:
        raise AgentError(f"tag {key}={raw!r} must be a percentage from 1 to 100") from None
    if not 1 <= value <= 100:
        raise AgentError(f"tag {key}={raw!r} must be a percentage from 1 to 100")
    return value


@dataclass(frozen=True)
class AgentConfig:
    """What cloud-init wrote to the VM's configuration file.

    Attributes:
        gpu: Whether the VM has a GPU: then ``nvidia-smi`` must answer for the VM to be idle.
        imds_url: The Instance Metadata Service's base URL.
        arm_url: Azure Resource Manager's base URL (also the token's audience).
    """

    gpu: bool = True
    imds_url: str = IMDS_URL
    arm_url: str = ARM_URL


def load_config(path: Path) -> AgentConfig:
    """Read the configuration file (missing keys keep their defaults).

    Raises:
        AgentError: If the file cannot be read or holds something else than expected.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise AgentError(f"cannot read the configuration {path}: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("gpu", True), bool):
        raise AgentError(f"{path} must be a JSON object whose 'gpu' is true or false")
    known = {key: data[key] for key in ("gpu", "imds_url", "arm_url") if key in data}
    return AgentConfig(**known)


# ---------------------------------------------------------------- signals


@dataclass(frozen=True)
class Signals:
    """What was read on this run; None where a signal could not be read.

    Attributes:
        sessions: Login sessions (terminals and SSH sessions with a terminal), from ``who``.
        ssh_connections: Established connections to the SSH port, from ``ss``.
        gpu_percents: Utilization of each GPU, from ``nvidia-smi``.
        cpu_percent: Average CPU utilization over all cores since the last run.
    """

    sessions: int | None
    ssh_connections: int | None
    gpu_percents: tuple[float, ...] | None
    cpu_percent: float | None


def count_lines(text: str) -> int:
    """Sessions in ``who`` output, or connections in ``ss -H`` output: one per line."""
    return sum(1 for line in text.splitlines() if line.strip())


def parse_gpu_utilization(text: str) -> tuple[float, ...]:
    """Per-GPU utilization from ``nvidia-smi --query-gpu=utilization.gpu --format=csv,...``.

    Raises:
        AgentError: If a line is not a number (``[N/A]``, ``[Not Supported]``, an error).
    """
    values = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            values.append(float(line.strip().rstrip("%").strip()))
        except ValueError:
            raise AgentError(f"nvidia-smi reported {line.strip()!r}, not a utilization") from None
    return tuple(values)


def cpu_times(proc_stat: str) -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs from ``/proc/stat``'s first ``cpu`` line.

    Busy is everything but ``idle`` and ``iowait``; guest time is already in ``user``.
    Fields: https://www.kernel.org/doc/html/latest/filesystems/proc.html (1.7, /proc/stat).

    Raises:
        AgentError: If there is no ``cpu`` line with at least the first 8 counters.
    """
    for line in proc_stat.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            try:
                counters = [int(value) for value in fields[1:9]]
            except ValueError:
                break
            if len(counters) == 8:
                total = sum(counters)
                return total - counters[3] - counters[4], total
            break
    raise AgentError("/proc/stat has no readable 'cpu' line")


def cpu_percent(before: tuple[int, int] | None, after: tuple[int, int]) -> float | None:
    """Average utilization between two samples; None without a usable earlier sample."""
    if before is None:
        return None
    busy, total = after[0] - before[0], after[1] - before[1]
    if total <= 0 or busy < 0:
        return None
    return 100.0 * busy / total


def busy_reasons(signals: Signals, thresholds: Thresholds, *, gpu: bool) -> list[str]:
    """Why the VM is not idle; an empty list means every idle condition holds.

    Args:
        signals: What this run read.
        thresholds: The CPU and GPU thresholds.
        gpu: Whether the VM has a GPU (then its utilization must be readable).
    """
    reasons = []
    if signals.sessions is None:
        reasons.append("login sessions cannot be read (who failed)")
    elif signals.sessions:
        reasons.append(f"{signals.sessions} login session(s)")
    if signals.ssh_connections is None:
        reasons.append("SSH connections cannot be read (ss failed)")
    elif signals.ssh_connections:
        reasons.append(f"{signals.ssh_connections} SSH connection(s)")
    if signals.gpu_percents is None:
        if gpu:
            reasons.append("GPU utilization cannot be read (nvidia-smi failed)")
    elif gpu and not signals.gpu_percents:
        reasons.append("nvidia-smi lists no GPU")
    else:
        busiest = max(signals.gpu_percents, default=0.0)
        if busiest >= thresholds.gpu_percent:
            reasons.append(f"GPU at {busiest:g}% (idle below {thresholds.gpu_percent:g}%)")
    if signals.cpu_percent is None:
        reasons.append("no CPU sample from the last minutes yet")
    elif signals.cpu_percent >= thresholds.cpu_percent:
        reasons.append(
            f"CPU at {signals.cpu_percent:.1f}% (idle below {thresholds.cpu_percent:g}%)"
        )
    return reasons


@dataclass(frozen=True)
class Decision:
    """What this run concluded.

    Attributes:
        idle_since: Since when (epoch seconds) the VM has been idle; None while busy.
        deallocate: Whether the VM has been idle long enough to be deallocated.
        message: The log line that says why.
    """

    idle_since: float | None
    deallocate: bool
    message: str


def decide(
    now: float, idle_since: float | None, reasons: Sequence[str], thresholds: Thresholds
) -> Decision:
    """Deallocate only when no reason says busy and the VM has been idle for N minutes.

    Args:
        now: The time of this run (epoch seconds).
        idle_since: Since when the VM was idle at the last run (None if it was busy).
        reasons: :func:`busy_reasons` of this run.
        thresholds: The idle minutes.
    """
    if reasons:
        return Decision(None, False, "busy: " + "; ".join(reasons))
    since = idle_since if idle_since is not None and idle_since <= now else now
    minutes = (now - since) / 60
    if minutes >= thresholds.minutes:
        return Decision(
            since,
            True,
            f"idle for {minutes:.0f} minutes (limit {thresholds.minutes}): deallocating",
        )
    return Decision(since, False, f"idle for {minutes:.0f} of {thresholds.minutes} minutes")


# ---------------------------------------------------------------- state between runs


@dataclass(frozen=True)
class State:
    """What one run leaves for the next (``/var/lib/mlstart-idle-shutdown/state.json``).

    Attributes:
        boot_id: The kernel's boot id: a new boot starts from a clean state, so a VM
            started again in the morning is not deallocated for last night's idle time.
        idle_since: Since when the VM has been idle (epoch seconds), or None.
        cpu_sample: The last ``(busy, total)`` CPU jiffies.
        sampled_at: When that sample was taken (epoch seconds).
        requested_at: When Azure last accepted a deallocation (epoch seconds).
    """

    boot_id: str
    idle_since: float | None = None
    cpu_sample: tuple[int, int] | None = None
    sampled_at: float | None = None
    requested_at: float | None = None


def load_state(path: Path, boot_id: str) -> State:
    """The saved state of this boot; a fresh one when missing, unreadable or older."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("boot_id") != boot_id:
            return State(boot_id)
        sample = data.get("cpu_sample")
        return State(
            boot_id,
            _number_or_none(data.get("idle_since")),
            (int(sample[0]), int(sample[1])) if sample else None,
            _number_or_none(data.get("sampled_at")),
            _number_or_none(data.get("requested_at")),
        )
    except (OSError, ValueError, TypeError, AttributeError, IndexError):
        return State(boot_id)


def save_state(path: Path, state: State) -> None:
    """Write the state atomically (a half-written file is never read)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(
        json.dumps(
            {
                "boot_id": state.boot_id,
                "idle_since": state.idle_since,
                "cpu_sample": list(state.cpu_sample) if state.cpu_sample else None,
                "sampled_at": state.sampled_at,
                "requested_at": state.requested_at,
            }
        ),
        encoding="utf-8",
    )
    os.replace(partial, path)


def _number_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


# ---------------------------------------------------------------- Azure


class Azure:
    """The two Azure services the agent talks to: IMDS and Resource Manager.

    Args:
        imds_url: IMDS's base URL (a loopback server in tests).
        arm_url: Resource Manager's base URL; the token is asked for this audience.
        timeout: Seconds a request may take.
    """

    def __init__(
        self, imds_url: str = IMDS_URL, arm_url: str = ARM_URL, timeout: float = TIMEOUT
    ) -> None:
        self.imds_url = imds_url.rstrip("/")
        self.arm_url = arm_url.rstrip("/")
        self.timeout = timeout
        # IMDS must be reached directly, never through a proxy set in the environment.
        self._direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._default = urllib.request.build_opener()

    def instance(self) -> tuple[str, dict[str, str]]:
        """This VM's resource id and tags, from IMDS's compute metadata.

        Raises:
            AgentError: If IMDS does not answer with both.
        """
        query = urllib.parse.urlencode({"api-version": IMDS_INSTANCE_API})
        data = self._json(
            "GET", f"{self.imds_url}/metadata/instance/compute?{query}", {"Metadata": "true"}
        )
        resource_id = data.get("resourceId")
        tags_list = data.get("tagsList", [])
        if not isinstance(resource_id, str) or not resource_id.startswith("/subscriptions/"):
            raise AgentError("IMDS compute metadata has no resourceId")
        if not isinstance(tags_list, list):
            raise AgentError("IMDS compute metadata has no tagsList")
        tags = {
            str(item.get("name")): str(item.get("value", ""))
            for item in tags_list
            if isinstance(item, dict) and item.get("name")
        }
        return resource_id, tags

    def token(self) -> str:
        """An access token for Resource Manager from the VM's managed identity.

        Raises:
            AgentError: If IMDS gives no token (no identity, or not allowed yet).
        """
        query = urllib.parse.urlencode(
            {"api-version": IMDS_TOKEN_API, "resource": self.arm_url + "/"}
        )
        data = self._json(
            "GET", f"{self.imds_url}/metadata/identity/oauth2/token?{query}", {"Metadata": "true"}
        )
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise AgentError("IMDS answered without an access_token")
        return token

    def vm_tags(self, resource_id: str, token: str) -> dict[str, str]:
        """The VM's tags as Resource Manager has them now (Virtual Machines - Get).

        Raises:
            AgentError: If the VM cannot be read.
        """
        query = urllib.parse.urlencode({"api-version": COMPUTE_API})
        data = self._json("GET", f"{self.arm_url}{resource_id}?{query}", _bearer(token))
        tags = data.get("tags") or {}
        if not isinstance(tags, dict):
            raise AgentError("Resource Manager returned the VM without a tags object")
        return {str(key): str(value) for key, value in tags.items()}

    def deallocate(self, resource_id: str, token: str) -> int:
        """Ask Resource Manager to deallocate the VM (Virtual Machines - Deallocate).

        Returns:
            The status code: 202 (accepted, running asynchronously) or 200.

        Raises:
            AgentError: If Resource Manager refuses or cannot be reached.
        """
        query = urllib.parse.urlencode({"api-version": COMPUTE_API})
        status, _ = self._send(
            "POST", f"{self.arm_url}{resource_id}/deallocate?{query}", _bearer(token), direct=False
        )
        if status not in (200, 202):
            raise AgentError(f"deallocate answered HTTP {status}, not 202 Accepted")
        return status

    def _json(self, method: str, url: str, headers: dict[str, str]) -> dict[str, Any]:
        direct = url.startswith(self.imds_url)
        _, body = self._send(method, url, headers, direct=direct)
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise AgentError(f"{_where(url)} answered with malformed JSON") from None
        if not isinstance(data, dict):
            raise AgentError(f"{_where(url)} answered with JSON that is not an object")
        return data

    def _send(
        self, method: str, url: str, headers: dict[str, str], *, direct: bool
    ) -> tuple[int, bytes]:
        request = urllib.request.Request(url, method=method, headers=headers)
        if method == "POST":
            request.data = b""
        opener = self._direct if direct else self._default
        try:
            with opener.open(request, timeout=self.timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            message = f"{_where(url)} answered HTTP {error.code}: {_error_text(error)}"
            raise AgentError(message) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise AgentError(f"{_where(url)} cannot be reached: {reason}") from None


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _where(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _error_text(error: urllib.error.HTTPError) -> str:
    """The error's code and message from an Azure error body, else its reason phrase."""
    try:
        body = json.loads(error.read().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return str(error.reason)
    if isinstance(body, dict):
        detail = body.get("error")
        if isinstance(detail, dict):  # ARM: an "error" object with "code" and "message"
            return f"{detail.get('code', '')}: {detail.get('message', '')}".strip(": ")
        if isinstance(detail, str):  # IMDS: "error" and "error_description" strings
            return f"{detail}: {body.get('error_description', '')}".strip(": ")
    return str(error.reason)


# ---------------------------------------------------------------- reading the machine

#: Runs a command and returns its standard output, or None when it cannot be run or fails.
Runner = Callable[[Sequence[str]], "str | None"]

WHO = ("who",)
SS = ("ss", "-H", "-t", "-n", "state", "established", f"( sport = :{SSH_PORT} )")
NVIDIA_SMI = ("nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits")


def run_command(command: Sequence[str]) -> str | None:
    """Run a probe command; None when it is missing, fails or takes too long."""
    try:
        done = subprocess.run(
            list(command), capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def read_signals(run: Runner, cpu: float | None) -> Signals:
    """Login sessions, SSH connections and GPU utilization now, with the CPU figure given."""
    who, ss, smi = run(WHO), run(SS), run(NVIDIA_SMI)
    gpus: tuple[float, ...] | None = None
    if smi is not None:
        try:
            gpus = parse_gpu_utilization(smi)
        except AgentError:
            gpus = None
    return Signals(
        sessions=None if who is None else count_lines(who),
        ssh_connections=None if ss is None else count_lines(ss),
        gpu_percents=gpus,
        cpu_percent=cpu,
    )


# ---------------------------------------------------------------- one run


@dataclass(frozen=True)
class Machine:
    """Where a run reads the machine: commands, ``/proc`` files, the clock.

    Attributes:
        run: Runs a probe command.
        proc_stat: Returns ``/proc/stat``'s text.
        boot_id: Returns this boot's id.
        clock: Returns the time in epoch seconds.
    """

    run: Runner = run_command
    proc_stat: Callable[[], str] = lambda: Path(PROC_STAT).read_text(encoding="ascii")
    boot_id: Callable[[], str] = lambda: Path(BOOT_ID_FILE).read_text(encoding="ascii").strip()
    clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class Outcome:
    """The result of one run: its log lines and whether a deallocation was requested."""

    lines: tuple[str, ...]
    deallocated: bool = False


def run_once(config: AgentConfig, azure: Azure, state_file: Path, machine: Machine) -> Outcome:
    """Read the signals, update the idle clock, and deallocate when it is time.

    Never raises for what Azure or the machine answers: every problem becomes a log line
    and the next run tries again.
    """
    lines: list[str] = []
    now = machine.clock()
    try:
        boot_id = machine.boot_id()
    except OSError as error:
        return Outcome((f"{_ERROR}cannot read the boot id: {error}; not idle",))
    state = load_state(state_file, boot_id)
    cpu, state = _sample_cpu(machine, state, now, lines)
    try:
        resource_id, tags = azure.instance()
        thresholds = thresholds_from_tags(tags)
    except AgentError as error:
        save_state(state_file, replace(state, idle_since=None))
        return Outcome((*lines, f"{_ERROR}{error}; not idle this run, trying again next run"))
    if thresholds is None:
        save_state(state_file, replace(state, idle_since=None))
        return Outcome((*lines, f"idle shutdown is off (tag {MINUTES_TAG}: {OFF} or absent)"))
    signals = read_signals(machine.run, cpu)
    reasons = busy_reasons(signals, thresholds, gpu=config.gpu)
    decision = decide(now, state.idle_since, reasons, thresholds)
    state = replace(state, idle_since=decision.idle_since)
    lines.append(decision.message)
    deallocated = False
    if decision.deallocate:
        if state.requested_at is not None and now - state.requested_at < REQUEST_PAUSE:
            lines.append("a deallocation was accepted less than 10 minutes ago; waiting")
        else:
            try:
                token = azure.token()
                confirmed = thresholds_from_tags(azure.vm_tags(resource_id, token))
                if confirmed is None:
                    lines.append("Resource Manager says idle shutdown is off now: not deallocating")
                else:
                    status = azure.deallocate(resource_id, token)
                    lines.append(f"deallocation of {resource_id} accepted (HTTP {status})")
                    state = replace(state, requested_at=now)
                    deallocated = True
            except AgentError as error:
                lines.append(f"{_ERROR}{error}; trying again next run")
    save_state(state_file, state)
    return Outcome(tuple(lines), deallocated)


def _sample_cpu(
    machine: Machine, state: State, now: float, lines: list[str]
) -> tuple[float | None, State]:
    """CPU utilization since the last run's sample (if recent), and the state with this one."""
    try:
        sample = cpu_times(machine.proc_stat())
    except (OSError, AgentError) as error:
        lines.append(f"{_WARNING}cannot read CPU times: {error}")
        return None, replace(state, cpu_sample=None, sampled_at=None)
    recent = state.sampled_at is not None and 0 < now - state.sampled_at <= SAMPLE_MAX_AGE
    percent = cpu_percent(state.cpu_sample if recent else None, sample)
    return percent, replace(state, cpu_sample=sample, sampled_at=now)


def main(argv: Sequence[str] | None = None) -> int:
    """Run once (the systemd timer runs this every minute)."""
    parser = argparse.ArgumentParser(description="Deallocate this Azure VM when it is idle.")
    parser.add_argument("--config", type=Path, default=Path(CONFIG_FILE))
    parser.add_argument(
        "--state",
        type=Path,
        default=Path(os.environ.get("STATE_DIRECTORY", "/var/lib/mlstart-idle-shutdown"))
        / STATE_FILE,
        help="state file (systemd's StateDirectory= by default)",
    )
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except AgentError as error:
        print(f"{_ERROR}{error}", flush=True)
        return 1
    try:
        outcome = run_once(config, Azure(config.imds_url, config.arm_url), args.state, Machine())
    except OSError as error:  # the state directory is not writable
        print(f"{_ERROR}cannot keep the agent's state: {error}", flush=True)
        return 1
    for line in outcome.lines:
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

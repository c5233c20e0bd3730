"""Idle shutdown for the GPU workstation: the cloud-config that installs the agent, its tags.

The agent (``idle_agent.py``, this package's own file) runs on the VM every minute and
deallocates it after N idle minutes, on top of the daily schedule. This module builds what
puts it there and what it reads, without Pulumi, so mlstart's offline policies and tests
read the same facts as the program ``pulumi up`` runs:

- the ``#cloud-config`` for the VM's custom data: ``write_files`` (the agent, its
  configuration, a systemd service and timer) and ``runcmd`` (enable the timer);
- the VM tags that hold the thresholds (``idle-shutdown: 60m``, CPU and GPU percentages),
  or the explicit opt-out ``idle-shutdown: off``. Azure cannot change a VM's custom data
  once the VM exists ("This property cannot be updated after the VM is created",
  https://learn.microsoft.com/en-us/rest/api/compute/virtual-machines/create-or-update#osprofile),
  so the thresholds live in tags, which ``pulumi up`` changes in place, and the workstation
  tells Pulumi to ignore later changes to the custom data;
- the names of the custom role that lets the VM's identity read and deallocate only itself.

The cloud-config body is JSON, which YAML (and so cloud-init) reads as it is, so it is built
with the standard library alone.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from .idle_agent import CPU_TAG, GPU_TAG, MAX_MINUTES, MIN_MINUTES, MINUTES_TAG, OFF

#: The agent's source: this package's ``idle_agent.py``, written verbatim to the VM.
AGENT_SOURCE = Path(__file__).with_name("idle_agent.py")
AGENT_PATH = "/usr/local/lib/mlstart/idle_agent.py"
CONFIG_PATH = "/etc/mlstart/idle-shutdown.json"
UNIT = "mlstart-idle-shutdown"
SERVICE_PATH = f"/etc/systemd/system/{UNIT}.service"
TIMER_PATH = f"/etc/systemd/system/{UNIT}.timer"
#: What ``write_files`` must hold and ``runcmd`` must do for the agent to run (policy reads it).
INSTALLED_FILES = (AGENT_PATH, CONFIG_PATH, SERVICE_PATH, TIMER_PATH)
ENABLE_TIMER = ["systemctl", "enable", "--now", f"{UNIT}.timer"]
#: The first line cloud-init needs to treat user data as cloud-config:
#: https://cloudinit.readthedocs.io/en/latest/explanation/format.html#cloud-config-data
CLOUD_CONFIG_HEADER = "#cloud-config"
#: "The maximum length of the binary array is 65535 bytes" (osProfile.customData, link above).
MAX_CUSTOM_DATA_BYTES = 65535
#: The input path the workstation asks Pulumi to ignore after the VM is created.
CUSTOM_DATA_PATH = "osProfile.customData"

#: All the custom role allows: read the VM and deallocate it
#: (https://learn.microsoft.com/en-us/azure/role-based-access-control/permissions/compute).
ROLE_ACTIONS = (
    "Microsoft.Compute/virtualMachines/read",
    "Microsoft.Compute/virtualMachines/deallocate/action",
)
DEALLOCATE_ACTION = ROLE_ACTIONS[1]
_RESOURCE_GROUP_ID = re.compile(r"^(/subscriptions/([^/]+)/resourceGroups/[^/]+)/providers/", re.I)

# What a systemd unit needs: https://www.freedesktop.org/software/systemd/man/latest/systemd.service.html
# and .timer.html. The service runs once per tick as a throw-away user (DynamicUser=) that
# can read sessions, sockets and the GPU but write only its own state directory.
SERVICE_UNIT = f"""\
[Unit]
Description=mlstart idle shutdown: deallocate this VM after the idle minutes in its tags
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=/usr/bin/python3 {AGENT_PATH} --config {CONFIG_PATH}
DynamicUser=yes
StateDirectory={UNIT}
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
NoNewPrivileges=yes
"""
TIMER_UNIT = """\
[Unit]
Description=Check every minute whether this VM is idle (mlstart idle shutdown)

[Timer]
OnBootSec=5min
OnUnitActiveSec=1min
AccuracySec=15s

[Install]
WantedBy=timers.target
"""


@dataclass(frozen=True)
class IdleShutdown:
    """When the workstation's agent deallocates it.

    Attributes:
        minutes: Idle minutes in a row before the VM is deallocated (15-1440).
        cpu_percent: Average CPU utilization over all cores below which the VM is idle.
        gpu_percent: GPU utilization below which every GPU is idle.
        gpu: Whether the VM has a GPU, so that a failing ``nvidia-smi`` means "not idle".
    """

    minutes: int
    cpu_percent: int
    gpu_percent: int
    gpu: bool = True

    def validate(self) -> None:
        """Reject thresholds the agent would not accept.

        Raises:
            ValueError: With one line that says what to change.
        """
        if not MIN_MINUTES <= self.minutes <= MAX_MINUTES:
            raise ValueError(
                f"idle shutdown after {self.minutes} minutes: use {MIN_MINUTES}-{MAX_MINUTES} "
                "(or turn it off with 0 in the stack config)"
            )
        for what, value in (("CPU", self.cpu_percent), ("GPU", self.gpu_percent)):
            if not 1 <= value <= 100:
                raise ValueError(f"the idle {what} threshold {value}% must be 1-100")

    def tags(self) -> dict[str, str]:
        """The VM tags the agent reads its thresholds from."""
        return {
            MINUTES_TAG: f"{self.minutes}m",
            CPU_TAG: str(self.cpu_percent),
            GPU_TAG: str(self.gpu_percent),
        }

    def cloud_config(self) -> str:
        """The ``#cloud-config`` that installs the agent and starts its timer."""
        config = {
            "write_files": [
                _file(AGENT_PATH, AGENT_SOURCE.read_text(encoding="utf-8"), "0755"),
                _file(CONFIG_PATH, json.dumps({"gpu": self.gpu}, indent=2) + "\n", "0644"),
                _file(SERVICE_PATH, SERVICE_UNIT, "0644"),
                _file(TIMER_PATH, TIMER_UNIT, "0644"),
            ],
            "runcmd": [["systemctl", "daemon-reload"], ENABLE_TIMER],
        }
        return f"{CLOUD_CONFIG_HEADER}\n{json.dumps(config, indent=1)}\n"

    def custom_data(self) -> str:
        """The cloud-config, base64-encoded for ``os_profile.custom_data``.

        Raises:
            ValueError: If it is larger than Azure accepts.
        """
        raw = self.cloud_config().encode("utf-8")
        if len(raw) > MAX_CUSTOM_DATA_BYTES:
            raise ValueError(
                f"the idle-shutdown cloud-config has {len(raw)} bytes; Azure accepts "
                f"{MAX_CUSTOM_DATA_BYTES} in custom data"
            )
        return base64.b64encode(raw).decode("ascii")


#: The tag that opts a VM out of idle shutdown explicitly (the policy accepts it).
OPT_OUT_TAGS = {MINUTES_TAG: OFF}


def _file(path: str, content: str, permissions: str) -> dict[str, str]:
    return {"path": path, "content": content, "owner": "root:root", "permissions": permissions}


def resource_group_id(vm_id: str) -> str:
    """``/subscriptions/<s>/resourceGroups/<g>`` of a resource id in that group.

    Raises:
        ValueError: If ``vm_id`` is not a resource id inside a resource group.
    """
    match = _RESOURCE_GROUP_ID.match(vm_id)
    if match is None:
        raise ValueError(f"{vm_id!r} is not a resource id inside a resource group")
    return match.group(1)


def role_definition_id(vm_id: str, guid: str) -> str:
    """The id a role assignment uses for a custom role of the VM's subscription.

    Form: https://learn.microsoft.com/en-us/rest/api/authorization/role-assignments/create
    """
    match = _RESOURCE_GROUP_ID.match(vm_id)
    if match is None:
        raise ValueError(f"{vm_id!r} is not a resource id inside a resource group")
    return (
        f"/subscriptions/{match.group(2)}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
    )


def role_guid(vm_id: str, purpose: str) -> str:
    """A stable GUID for the VM's role definition or assignment.

    Azure names both by a GUID that must be unique in the tenant; derived from the VM's id
    (subscription, group, name) it stays the same run after run and differs per VM.
    """
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{vm_id.lower()}/mlstart-idle-shutdown/{purpose}"))


def role_name(vm_id: str) -> str:
    """The custom role's display name (unique in the tenant, so it carries the GUID's head)."""
    group = resource_group_id(vm_id).rsplit("/", 1)[-1]
    vm = vm_id.rstrip("/").rsplit("/", 1)[-1]
    return f"mlstart idle shutdown {group}/{vm} ({role_guid(vm_id, 'role')[:8]})"

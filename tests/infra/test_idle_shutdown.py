"""Idle shutdown as planned: the cloud-config, its validators, settings and MLS-COST-012."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from mlstart_infra import policies
from mlstart_infra.components import catalog, settings
from mlstart_infra.components import idle_shutdown as idle
from mlstart_infra.idle import agent_problem, idle_shutdown_of
from mlstart_infra.offline.graph import PlannedResource, ResourceGraph

SHUTDOWN = idle.IdleShutdown(minutes=60, cpu_percent=10, gpu_percent=5)


# ---------------------------------------------------------------- the cloud-config


@pytest.mark.skipif(
    shutil.which("cloud-init") is None, reason="needs cloud-init (.ci/system-packages)"
)
def test_cloud_init_accepts_the_cloud_config_and_refuses_a_broken_one(tmp_path: Path) -> None:
    good = tmp_path / "user-data"
    good.write_text(SHUTDOWN.cloud_config(), encoding="utf-8")
    checked = subprocess.run(
        ["cloud-init", "schema", "--config-file", str(good)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Valid cloud-config" in checked.stdout
    broken = json.loads(SHUTDOWN.cloud_config().split("\n", 1)[1])
    broken["write_files"][0]["mode"] = "0755"  # not a write_files key
    bad = tmp_path / "broken"
    bad.write_text(f"{idle.CLOUD_CONFIG_HEADER}\n{json.dumps(broken)}\n", encoding="utf-8")
    refused = subprocess.run(
        ["cloud-init", "schema", "--config-file", str(bad)], capture_output=True, text=True
    )
    assert refused.returncode != 0 and "'mode' was unexpected" in refused.stdout + refused.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    agent = tmp_path / "idle_agent.py"
    agent.write_text(idle.AGENT_SOURCE.read_text(encoding="utf-8"), encoding="utf-8")
    agent.chmod(0o755)
    service = tmp_path / f"{idle.UNIT}.service"
    service.write_text(idle.SERVICE_UNIT.replace(idle.AGENT_PATH, str(agent)), encoding="utf-8")
    timer = tmp_path / f"{idle.UNIT}.timer"
    timer.write_text(idle.TIMER_UNIT, encoding="utf-8")
    typo = tmp_path / "typo.timer"
    typo.write_text(idle.TIMER_UNIT.replace("OnUnitActiveSec", "OnUnitActivSec"), encoding="utf-8")
    checked = subprocess.run(
        ["systemd-analyze", "verify", str(service), str(timer)], capture_output=True, text=True
    )
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")
    warned = subprocess.run(
        ["systemd-analyze", "verify", str(typo)], capture_output=True, text=True
    )
    assert "OnUnitActivSec" in warned.stderr


def test_custom_data_is_the_cloud_config_within_azures_limit() -> None:
    data = SHUTDOWN.custom_data()
    text = base64.b64decode(data).decode("utf-8")
    assert text == SHUTDOWN.cloud_config()
    assert len(text.encode()) <= idle.MAX_CUSTOM_DATA_BYTES
    config = json.loads(text.split("\n", 1)[1])
    files = {item["path"]: item for item in config["write_files"]}
    assert files[idle.AGENT_PATH]["content"] == idle.AGENT_SOURCE.read_text(encoding="utf-8")
    assert json.loads(files[idle.CONFIG_PATH]["content"]) == {"gpu": True}
    assert config["runcmd"][-1] == idle.ENABLE_TIMER
    assert agent_problem(data) is None
    assert SHUTDOWN.tags() == {
        "idle-shutdown": "60m",
        "idle-shutdown-cpu-percent": "10",
        "idle-shutdown-gpu-percent": "5",
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [({"minutes": 14}, "use 15-1440"), ({"minutes": 1441}, "use 15-1440"),
     ({"cpu_percent": 0}, "CPU threshold 0%"), ({"gpu_percent": 101}, "GPU threshold 101%")],
)  # fmt: skip
def test_thresholds_are_checked(change: dict[str, int], message: str) -> None:
    values = {"minutes": 60, "cpu_percent": 10, "gpu_percent": 5, **change}
    with pytest.raises(ValueError, match=message):
        idle.IdleShutdown(**values).validate()


def test_role_names_are_stable_guids_per_vm() -> None:
    vm = "/subscriptions/s1/resourceGroups/rg-a/providers/Microsoft.Compute/virtualMachines/vm-a"
    other = vm.replace("/s1/", "/s2/")
    assert idle.role_guid(vm, "role") == idle.role_guid(vm.upper(), "role")
    assert len({idle.role_guid(vm, "role"), idle.role_guid(vm, "assignment"),
                idle.role_guid(other, "role")}) == 3  # fmt: skip
    assert idle.resource_group_id(vm) == "/subscriptions/s1/resourceGroups/rg-a"
    assert idle.role_definition_id(vm, "g") == (
        "/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/g"
    )
    assert idle.role_name(vm).startswith("mlstart idle shutdown rg-a/vm-a (")
    with pytest.raises(ValueError, match="not a resource id"):
        idle.resource_group_id("/subscriptions/s1")


# ---------------------------------------------------------------- settings

BASE = {
    "owner": "o@x.io", "decommissionBy": "2030-01-01", "budgetAmount": "100",
    "notificationEmail": "o@x.io", "nameSuffix": "abc123", "gpuWorkstation": "true",
    "trainingCluster": "false", "serving": "none", "dataVersioning": "manifest",
    "ciProvider": "none",
    "workstationKind": "vm", "vmSize": "Standard_NC4as_T4_v3", "shutdownTime": "19:00",
    "timeZone": "UTC", "shutdownNoticeMinutes": "30", "sshPublicKey": "ssh-ed25519 AAAA k",
    "publicIp": "false",
    "idleShutdownMinutes": "60", "idleCpuPercent": "10", "idleGpuPercent": "5",
}  # fmt: skip


def load(**change: str | None) -> settings.Settings:
    config = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    return settings.settings_from(config.get, project="p", stack="dev", location="westeurope")


def test_settings_read_the_idle_keys() -> None:
    loaded = load()
    assert (loaded.idle_shutdown_minutes, loaded.idle_cpu_percent, loaded.idle_gpu_percent) == (
        60, 10, 5,
    )  # fmt: skip
    off = load(idleShutdownMinutes="0", idleCpuPercent=None, idleGpuPercent=None)
    assert off.idle_shutdown_minutes == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [({"idleShutdownMinutes": None}, "does not set idleShutdownMinutes"),
     ({"idleCpuPercent": None}, "does not set idleCpuPercent"),
     ({"idleShutdownMinutes": "10"}, "idleShutdownMinutes must be 15-1440, or 0 to turn it off"),
     ({"idleShutdownMinutes": "1h"}, "idleShutdownMinutes must be a whole number"),
     ({"idleGpuPercent": "0"}, "idleGpuPercent must be 1-100, not 0")],
)  # fmt: skip
def test_settings_refuse_bad_idle_values(change: dict[str, str | None], message: str) -> None:
    with pytest.raises(settings.SettingsError, match=message):
        load(**change)


# ---------------------------------------------------------------- MLS-COST-012 on hand-made graphs

GROUP = "/subscriptions/s1/resourceGroups/rg-demo-dev"
VM_ID = f"{GROUP}/providers/Microsoft.Compute/virtualMachines/vm-demo"
ROLE = idle.role_guid(VM_ID, "role")


def resource(type_: str, name: str, *, id_: str | None = None, dependencies: tuple[str, ...] = (),
             **inputs: Any) -> PlannedResource:  # fmt: skip
    return PlannedResource(
        urn=f"urn:{name}", type=type_, name=name, azure_name=name, custom=True, inputs=inputs,
        id=id_ or f"{GROUP}/providers/x/{name}", dependencies=dependencies,
    )  # fmt: skip


def vm(tags: dict[str, str] | None = None, custom_data: str | None = None, **extra: Any) -> Any:
    profile: dict[str, Any] = {"computerName": "vm-demo", "adminUsername": "azureuser"}
    if custom_data is not None:
        profile["customData"] = custom_data
    inputs = {"identity": {"type": "SystemAssigned"}, "osProfile": profile, "tags": tags or {}}
    return resource(catalog.VM, "vm-demo", id_=VM_ID, **{**inputs, **extra})


def role(actions: list[str] | None = None, scopes: list[str] | None = None) -> PlannedResource:
    permission = {"actions": list(idle.ROLE_ACTIONS) if actions is None else actions,
                  "notActions": [], "dataActions": [], "notDataActions": []}  # fmt: skip
    return resource(catalog.ROLE_DEFINITION, ROLE, roleName="idle role", scope=GROUP,
                    permissions=[permission], assignableScopes=scopes or [GROUP])  # fmt: skip


def assignment(scope: str = VM_ID, role_id: str = ROLE, depends: bool = True) -> PlannedResource:
    definition = f"/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/{role_id}"
    return resource(
        catalog.ROLE_ASSIGNMENT, "a1", dependencies=("urn:vm-demo",) if depends else (),
        principalId="0000", principalType="ServicePrincipal", roleDefinitionId=definition,
        scope=scope,
    )  # fmt: skip


def judged(*resources: PlannedResource) -> tuple[str, str]:
    graph = ResourceGraph("p", "dev", list(resources))
    (result,) = [r for r in policies.evaluate(graph) if r.policy.id == "MLS-COST-012"]
    return result.status, " ".join(f.message for f in result.findings)


AGENT = SHUTDOWN.custom_data()
WITH_AGENT = vm(SHUTDOWN.tags(), AGENT)
NO_TIMER = base64.b64encode(SHUTDOWN.cloud_config().replace("--now", "--later").encode()).decode()


@pytest.mark.parametrize(
    ("resources", "status", "message"),
    [
        ((WITH_AGENT, role(), assignment()), "pass", ""),
        ((vm(idle.OPT_OUT_TAGS),), "pass", ""),
        ((vm({"idle-shutdown": "OFF"}),), "pass", ""),
        ((vm(),), "fail", "neither the idle-shutdown agent nor the opt-out tag idle-shutdown: off"),
        ((WITH_AGENT,), "fail", "no role assignment lets the VM's identity deallocate it"),
        ((WITH_AGENT, role(), assignment(scope=GROUP)), "fail",
         f"assigned at {GROUP}, not at the VM itself"),
        ((WITH_AGENT, role(["*"]), assignment()), "fail",
         "allows more than reading and deallocating the VM: *"),
        ((WITH_AGENT, role([*idle.ROLE_ACTIONS, "Microsoft.Compute/virtualMachines/start/action"]),
          assignment()), "fail", "virtualMachines/start/action"),
        ((WITH_AGENT, role(["Microsoft.Compute/virtualMachines/read"]), assignment()), "fail",
         "does not allow Microsoft.Compute/virtualMachines/deallocate/action"),
        ((WITH_AGENT, role(scopes=["/subscriptions/s1"]), assignment()), "fail",
         "can be assigned at /subscriptions/s1, beyond the VM's resource group"),
        ((WITH_AGENT, assignment(role_id="9980e02c-c2be-4d73-94e8-173b1dc7cf3c")), "fail",
         "not a custom role in this plan"),
        ((WITH_AGENT, role(), assignment(depends=False)), "fail",
         "not assigned to the VM's own identity"),
        ((vm(SHUTDOWN.tags(), NO_TIMER), role(), assignment()), "fail",
         "does not run `systemctl enable --now mlstart-idle-shutdown.timer`"),
        ((vm(SHUTDOWN.tags(), "not base64!"), role(), assignment()), "fail", "not base64"),
        ((vm(SHUTDOWN.tags()), role(), assignment()), "fail",
         "no custom data installs the idle-shutdown agent"),
        ((vm({**SHUTDOWN.tags(), "idle-shutdown": "5m"}, AGENT), role(), assignment()), "fail",
         "tag idle-shutdown is '5m'"),
        ((vm(None, AGENT), role(), assignment()), "fail",
         "reads its idle minutes from the tag idle-shutdown: it is missing"),
        ((vm(SHUTDOWN.tags(), AGENT, identity={"type": "None"}), role(), assignment()), "fail",
         "no system-assigned identity"),
    ],
)  # fmt: skip
def test_every_vm_runs_the_agent_with_a_narrow_role_or_opts_out(
    resources: tuple[PlannedResource, ...], status: str, message: str
) -> None:
    verdict, messages = judged(*resources)
    assert verdict == status, messages
    assert message in messages


def test_the_plan_view_names_agent_identity_role_and_scope() -> None:
    graph = ResourceGraph("p", "dev", [WITH_AGENT, role(), assignment()])
    (view,) = idle_shutdown_of(graph)
    assert (view.mode, view.minutes, view.cpu_percent, view.gpu_percent) == (
        "agent",
        "60m",
        "10",
        "5",
    )
    assert (view.identity, view.role, view.scope, view.problems) == (
        "SystemAssigned", "idle role", VM_ID, (),
    )  # fmt: skip
    assert view.actions == idle.ROLE_ACTIONS
    assert view.to_dict()["actions"] == list(idle.ROLE_ACTIONS)
    (off,) = idle_shutdown_of(ResourceGraph("p", "dev", [vm(idle.OPT_OUT_TAGS)]))
    assert (off.mode, off.problems) == ("off", ())

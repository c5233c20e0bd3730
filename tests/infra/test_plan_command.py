"""`mlstart plan` on generated projects: resources, policies, costs, JSON and errors."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from mlstart.cli import main
from mlstart_infra import policies
from mlstart_infra.pricing import PriceTable

from tests.conftest import Generate
from tests.infra.conftest import TEST_KEY, write_program
from tests.infra.test_policies import EXPECTED_FAILURES, write_insecure


def run_plan(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(["plan", *args])
    code = exited.value.code
    captured = capsys.readouterr()
    return (code if isinstance(code, int) else 0), captured.out, captured.err


def plan_json(project: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, err = run_plan([str(project), "--json"], capsys)
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def types_of(report: dict[str, Any]) -> list[str]:
    return [r["type"].removeprefix("azure-native:") for r in report["resources"] if r["custom"]]


def test_default_project(generate: Generate, capsys: pytest.CaptureFixture[str]) -> None:
    project = generate("Plan Demo")
    code, out, err = run_plan([str(project)], capsys)
    assert code == 0, err
    assert "shutdown-computevm-vm-plan-demo" in out
    assert "workstation (mlstart:azure:GpuWorkstation)" in out
    assert "machinelearningservices:Compute" in out and "network:BastionHost" in out
    assert "app:ContainerApp" in out and "ca-plan-demo" in out
    assert "Azure rules: every resource conforms" in out
    assert "WARN  MLS-STO-004" in out and "4 advisory warnings" in out  # public endpoints
    assert "PASS  MLS-COST-001" in out and "PASS  MLS-COST-010" in out
    assert re.search(r"total \(priced lines\)\s+[\d,]+\.\d\d\s+[\d,]+\.\d\d", out)
    assert "list prices recorded 20" in out


@pytest.mark.parametrize("key", ["", "~/.ssh/id_ed25519.pub"])
def test_a_missing_or_machine_bound_ssh_key_is_one_line(
    generate: Generate, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    """No key (this HOME has no ~/.ssh), or a path that works on one machine only."""
    project = generate("Keyless", ssh_public_key="")
    config = project / "infra" / "Pulumi.dev.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('sshPublicKey: ""', f'sshPublicKey: "{key}"'), "utf-8")
    code, out, err = run_plan([str(project)], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "sshPublicKey" in err and "Traceback" not in err


def test_a_budget_below_the_estimate_fails_the_plan(
    generate: Generate, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_plan([str(generate("Tight", monthly_budget=10))], capsys)
    assert code == 3
    assert "FAIL  MLS-COST-010" in out and "MLS-COST-010" in err


def test_json_carries_the_same_plan(generate: Generate, capsys: pytest.CaptureFixture[str]) -> None:
    report = plan_json(generate("Json Demo", ssh_public_key=TEST_KEY), capsys)
    assert report["passed"] is True and report["failed_mandatory"] == []
    assert report["warnings"] == [
        "servingAadClientId is not set: the serving app answers 401 to every request until an "
        "Entra ID app registration's client id is configured"
    ]
    statuses = {p["id"]: p["status"] for p in report["policies"]}
    assert statuses["MLS-VM-003"] == "pass"  # the key is given as text
    failed = {p["id"] for p in report["policies"] if p["status"] == "fail"}
    # Advisory only: Azure ML reaches storage, vault, registry and workspace publicly.
    assert failed == {"MLS-KV-004", "MLS-STO-004", "MLS-ACR-002", "MLS-AML-004"}
    assert not any(p["mandatory"] for p in report["policies"] if p["id"] in failed)
    cost = report["cost"]
    assert cost["total_scheduled"] < cost["total_always_on"]
    assert cost["total_always_on"] == pytest.approx(
        sum(line["always_on"] or 0 for line in cost["lines"]), abs=0.05
    )
    schedule = next(r for r in report["resources"] if r["type"].endswith("GlobalSchedule"))
    vm = next(r for r in report["resources"] if r["type"].endswith(":VirtualMachine"))
    assert schedule["inputs"]["targetResourceId"] == vm["id"]
    assert schedule["component"] == vm["component"] == "workstation"


def test_no_gpu_workstation(generate: Generate, capsys: pytest.CaptureFixture[str]) -> None:
    report = plan_json(generate("No Gpu", gpu_workstation=False), capsys)
    types = types_of(report)
    assert "compute:VirtualMachine" not in types
    assert "devtestlab:GlobalSchedule" not in types and "network:VirtualNetwork" not in types
    assert "machinelearningservices:Compute" in types
    statuses = {p["id"]: p["status"] for p in report["policies"]}
    assert statuses["MLS-COST-001"] == "not-applicable"
    assert report["passed"] is True


#: The training cluster's default node size for each workload (copier.yml's cluster_vm_size).
CLUSTER_SIZES = {"sklearn": "Standard_D4s_v5", "pytorch": "Standard_NC4as_T4_v3"}


@pytest.mark.parametrize(("workload", "size"), list(CLUSTER_SIZES.items()))
def test_the_training_cluster_follows_the_workload_and_is_priced(
    generate: Generate, capsys: pytest.CaptureFixture[str], workload: str, size: str
) -> None:
    """CPU nodes for scikit-learn, GPU nodes for PyTorch; the plan prices each node-hour."""
    project = generate(f"{workload} Cluster", workload=workload, cluster_max_nodes=3)
    report = plan_json(project, capsys)
    cluster = next(r for r in report["resources"] if r["type"].endswith(":Compute"))
    settings = cluster["inputs"]["properties"]["properties"]
    assert (settings["vmSize"], settings["scaleSettings"]["maxNodeCount"]) == (size, 3)
    hourly = PriceTable.load().vm_hourly(size, "westeurope")
    assert hourly is not None and hourly > 0, f"{size} has no price in prices.json"
    line = next(x for x in report["cost"]["lines"] if x["resource"] == cluster["azure_name"])
    assert line["basis"] == "compute" and line["description"].startswith(f"{size} x 0-3 nodes")
    assert line["always_on"] == pytest.approx(3 * hourly * 730, abs=0.01)
    assert line["scheduled"] == 0  # no job, no node
    # The monthly figures are 0 and every node all month: the text states the hourly price.
    code, out, err = run_plan([str(project)], capsys)
    assert code == 0, err
    costs = out[out.index("Monthly cost estimate") :].splitlines()
    row = next(i for i, text in enumerate(costs) if text.startswith(f"  {cluster['azure_name']} "))
    assert f"{hourly:g} per node-hour while jobs run" in costs[row + 1]


def test_aml_endpoint(generate: Generate, capsys: pytest.CaptureFixture[str]) -> None:
    project = generate("Endpoint Demo", serving="aml-endpoint", training_cluster=False)
    report = plan_json(project, capsys)
    types = types_of(report)
    assert "machinelearningservices:OnlineEndpoint" in types
    assert "app:ContainerApp" not in types and "machinelearningservices:Compute" not in types
    endpoint = next(r for r in report["resources"] if r["type"].endswith("OnlineEndpoint"))
    deployment = next(r for r in report["resources"] if r["type"].endswith("OnlineDeployment"))
    # The deploy workflow creates it from aml/online-deployment.yml, for the same endpoint.
    assert (deployment["azure_name"], deployment["owner"]) == ("blue", "ci")
    assert deployment["inputs"]["endpointName"] == endpoint["azure_name"]
    assert report["conformance"] == [] and report["passed"] is True
    statuses = {p["id"]: p["status"] for p in report["policies"]}
    assert statuses["MLS-COST-007"] == "fail"  # advisory: endpoints bill while idle
    assert statuses["MLS-SRV-001"] == "pass"
    line = next(x for x in report["cost"]["lines"] if x["resource"] == "blue")
    size = deployment["inputs"]["properties"]["instanceType"]
    if PriceTable.load().vm_hourly(size, "westeurope") is None:  # not in the shipped table
        assert line["basis"] == "unpriced" and f"{size} in westeurope" in line["note"]
    else:
        assert line["always_on"] == line["scheduled"] > 0


def test_no_serving(generate: Generate, capsys: pytest.CaptureFixture[str]) -> None:
    report = plan_json(generate("Bare", serving="none", gpu_workstation=False), capsys)
    types = types_of(report)
    assert not [t for t in types if t.startswith("app:") or "Online" in t]
    assert {p["id"]: p["status"] for p in report["policies"]}["MLS-SRV-001"] == "not-applicable"


def test_public_ip_with_allowed_range(
    generate: Generate, capsys: pytest.CaptureFixture[str]
) -> None:
    project = generate("Open Demo", workstation_public_ip=True, ssh_allowed_cidr="198.51.100.0/24")
    report = plan_json(project, capsys)
    assert "network:PublicIPAddress" in types_of(report)
    statuses = {p["id"]: p["status"] for p in report["policies"]}
    assert (statuses["MLS-NET-001"], statuses["MLS-NET-003"]) == ("fail", "pass")
    assert report["passed"] is True


def test_insecure_program_fails_with_policy_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_plan([str(write_insecure(tmp_path / "insecure"))], capsys)
    assert code == 3
    assert "mandatory policies failed" in err
    mandatory = EXPECTED_FAILURES & {p.id for p in policies.POLICIES if p.mandatory}
    assert all(policy_id in err for policy_id in mandatory)
    assert "FAIL  MLS-NET-003" in out and "fix: restrict the rule's source" in out
    code, out, err = run_plan([str(tmp_path / "insecure"), "--json"], capsys)
    assert code == 3
    assert set(json.loads(out)["failed_mandatory"]) == mandatory


def test_user_edits_are_planned(generate: Generate, capsys: pytest.CaptureFixture[str]) -> None:
    project = generate("Edited")
    main_py = project / "infra" / "__main__.py"
    main_py.write_text(
        main_py.read_text(encoding="utf-8").replace(
            "idle_minutes=settings", "idle_minutes=30 or settings"
        ),
        encoding="utf-8",
    )
    code, _out, err = run_plan([str(project)], capsys)
    assert code == 1
    assert err.startswith("error: the Pulumi program in") and "idle scale-down" in err
    assert "Traceback" not in err


def test_arm_export_is_written(
    generate: Generate, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "arm" / "plan.json"
    target.parent.mkdir()
    code, out, err = run_plan([str(generate("Arm Demo")), "--arm", str(target)], capsys)
    assert code == 0, err
    assert f"ARM template written to {target}" in out
    template = json.loads(target.read_text(encoding="utf-8"))
    types = {resource["type"] for resource in template["resources"]}
    assert "Microsoft.Compute/virtualMachines" in types


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("nothing", "no Pulumi.yaml in"),
        ("stack", "no stack config"),
        ("raises", "RuntimeError: boom"),
        ("node", "only Python programs can be planned"),
    ],
)
def test_bad_input_gives_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: str, message: str
) -> None:
    folder = tmp_path / "prog"
    if setup != "nothing":
        write_program(folder, "raise RuntimeError('boom')\n")
    if setup == "stack":
        (folder / "Pulumi.dev.yaml").unlink()
    if setup == "node":
        (folder / "Pulumi.yaml").write_text("name: x\nruntime: nodejs\n", encoding="utf-8")
    folder.mkdir(exist_ok=True)
    code, _out, err = run_plan([str(folder)], capsys)
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err


def test_missing_pulumi_says_how_to_install(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pulumi" else real(name, *a)
    )
    code, _out, err = run_plan([str(tmp_path)], capsys)
    assert code == 1
    assert err.startswith("error: mlstart plan needs Pulumi: install mlstart's azure extra")
    assert err.count("\n") == 1 and "pip install -e '.[azure]'" in err


def test_plan_command_is_listed_and_lazy() -> None:
    import subprocess

    code = (
        "import sys\nfrom mlstart.cli import main\n"
        "try:\n    main(['plan', '--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'pulumi' not in sys.modules and 'mlstart_infra' not in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "--json" in result.stdout and "--stack" in result.stdout


#: Answer sets that together take every infra choice at least once, the long name included.
LONG_NAME = "A" + " project name that is exactly sixty characters long, ok" + "!!!!"
ANSWER_SETS = {
    "defaults-long-name": {},
    "aml-endpoint-long-name": {"serving": "aml-endpoint", "data_versioning": "dvc",
                               "cluster_low_priority": True},
    "public-ip-no-cluster": {"workstation_public_ip": True, "ssh_allowed_cidr": "203.0.113.7/32",
                             "training_cluster": False, "serving": "none"},
    "no-workstation": {"gpu_workstation": False, "cluster_vm_size": "Standard_D4s_v3"},
}  # fmt: skip


@pytest.mark.parametrize("variant", ANSWER_SETS)
def test_every_answer_set_conforms_and_passes_the_mandatory_policies(
    generate: Generate, capsys: pytest.CaptureFixture[str], variant: str
) -> None:
    assert len(LONG_NAME) == 60
    project = generate(LONG_NAME, **ANSWER_SETS[variant])
    report = plan_json(project, capsys)
    assert report["conformance"] == []
    assert report["failed_mandatory"] == [] and report["passed"] is True
    names = [r["azure_name"] for r in report["resources"] if r["custom"]]
    assert all(len(name) <= 90 for name in names)


USER_ADDITIONS = {
    "AZ-ENUM": 'storage.StorageAccount("extra", account_name="stextra12345", '
    'resource_group_name=group.name, kind="StorageV3", sku=storage.SkuArgs(name="Standard_LRS"))',
    "AZ-NAME": 'storage.StorageAccount("extra", account_name="Not_Valid!", '
    'resource_group_name=group.name, kind="StorageV2", sku=storage.SkuArgs(name="Standard_LRS"))',
    "AZ-REF": 'network.Subnet("extra", subnet_name="extra", resource_group_name=group.name, '
    'virtual_network_name="vnet-that-does-not-exist", address_prefix="10.9.0.0/24")',
    "MLS-NET-004": 'network.NetworkSecurityGroup("extra", network_security_group_name="nsg-rdp", '
    "resource_group_name=group.name, tags=tags, security_rules=[network.SecurityRuleArgs("
    'name="rdp", priority=100, direction="Inbound", access="Allow", protocol="Tcp", '
    'source_address_prefix="*", source_port_range="*", destination_address_prefix="*", '
    'destination_port_range="3389")])',
}


@pytest.mark.parametrize("finding", USER_ADDITIONS)
def test_a_user_added_resource_that_azure_refuses_fails_by_id(
    generate: Generate, capsys: pytest.CaptureFixture[str], finding: str
) -> None:
    project = generate("Added")
    main_py = project / "infra" / "__main__.py"
    text = main_py.read_text(encoding="utf-8")
    text = text.replace(
        "from pulumi_azure_native import resources",
        "from pulumi_azure_native import network, resources, storage",
    )
    main_py.write_text(text + "\n" + USER_ADDITIONS[finding] + "\n", encoding="utf-8")
    code, out, err = run_plan([str(project)], capsys)
    assert code == 3, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and finding in errors[0]
    assert f"FAIL  {finding}" in out


ENDINGS = {
    "sys.exit": "import sys\nsys.exit(0)\n",
    "os._exit": "import os\nos._exit(0)\n",
}


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_program_that_ends_early_fails_the_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ending: str
) -> None:
    """A CI gate must not pass with nothing checked."""
    code, out, err = run_plan([str(write_program(tmp_path / "early", ENDINGS[ending]))], capsys)
    assert code == 1 and out == ""
    assert "ended (exit code 0) before the plan was complete" in err and err.count("\n") == 1


def test_a_program_that_never_ends_times_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_program(tmp_path / "loop", "while True:\n    pass\n")
    code, _out, err = run_plan([str(folder), "--timeout", "1"], capsys)
    assert code == 1 and "did not finish within 1 s" in err


def test_what_the_program_prints_stays_out_of_json(
    generate: Generate, capsys: pytest.CaptureFixture[str]
) -> None:
    project = generate("Chatty")
    main_py = project / "infra" / "__main__.py"
    main_py.write_text("print('hello from the program')\n" + main_py.read_text("utf-8"), "utf-8")
    code, out, err = run_plan([str(project), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["passed"] is True
    assert "hello from the program" in err

"""One rule set, two runners: the policy pack reaches the offline plan's verdicts.

The generated project's pack (infra/policy-pack) is started as the Pulumi CLI starts it
(``python -m pulumi.policy <engine> <pack folder>``, in the pack's folder) and driven over
its gRPC analyzer protocol with what the engine would send for the resources the offline plan
recorded: ``Analyze`` with each resource's inputs, then ``AnalyzeStack`` with every resource.
Each policy's verdict and violating resources must be those of ``policies.evaluate``.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from mlstart_infra import policies
from mlstart_infra.offline.graph import PlannedResource, ResourceGraph
from mlstart_infra.offline.plan import plan_project

from tests.conftest import REPO_ROOT
from tests.infra.conftest import SHARES_ANSWER_SET_PLANS, PlannedProject

pulumi_policy = pytest.importorskip("pulumi_policy")

import grpc  # noqa: E402  (comes with pulumi, after the skip above)
from google.protobuf import json_format, struct_pb2  # noqa: E402
from mlstart_infra.policy_pack import (  # noqa: E402
    RECORDER_NAME,
    policy_name_problem,
    recovered_ids,
)
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc  # noqa: E402

from tests.infra.test_policies import write_insecure  # noqa: E402

pytestmark = SHARES_ANSWER_SET_PLANS

PROVIDER_TYPE = "pulumi:providers:azure-native"
#: pulumi-policy's marker for a string Pulumi does not know yet (its proxy.py).
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@dataclass(frozen=True)
class Verdict:
    """A policy's outcome: status and the URNs of the violating resources ("" for the stack)."""

    status: str
    urns: frozenset[str]


# ---------------------------------------------------------------- the pack, as Pulumi runs it


@pytest.fixture(scope="module")
def pack_folder(planned_answer_sets: dict[str, PlannedProject]) -> Path:
    return planned_answer_sets["defaults"].path / "infra" / "policy-pack"


def _pack_env() -> dict[str, str]:
    """The environment without this checkout on the path: the pack must run on its own copy."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


@pytest.fixture(scope="module")
def analyzer(pack_folder: Path) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """The pack started as the Pulumi CLI starts a Python policy pack, and a client for it."""
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(pack_folder)],
        cwd=pack_folder, env=_pack_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    timer = threading.Timer(60, process.kill)
    timer.start()
    first_line = process.stdout.readline().decode().strip()
    timer.cancel()
    if not first_line.isdigit():
        process.kill()
        pytest.fail(f"the pack did not start: {first_line} {process.stderr.read().decode()}")
    channel = grpc.insecure_channel(f"127.0.0.1:{first_line}")
    try:
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        channel.close()
        process.kill()
        process.wait()


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(json.loads(json.dumps(dict(values))), struct_pb2.Struct())


def _stack_urn(graph: ResourceGraph) -> str:
    return f"urn:pulumi:{graph.stack}::{graph.project}::pulumi:pulumi:Stack::{graph.project}"


def _provider(graph: ResourceGraph) -> analyzer_pb2.AnalyzerProviderResource:
    return analyzer_pb2.AnalyzerProviderResource(
        type=PROVIDER_TYPE,
        urn=f"urn:pulumi:{graph.stack}::{graph.project}::{PROVIDER_TYPE}::default_3_29_0",
        name="default_3_29_0",
        properties=_struct({}),
    )


def _options(resource: PlannedResource, parent: str) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=resource.protect, ignoreChanges=list(resource.ignore_changes), parent=parent
    )


def run_pack(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
    graph: ResourceGraph,
    *,
    analyzed: bool = True,
    outputs: Mapping[str, Mapping[str, Any]] | None = None,
) -> analyzer_pb2.AnalyzeResponse:
    """Send the graph's resources as the engine would; return the AnalyzeStack response.

    Args:
        analyzer: The running pack.
        graph: The resources (those Pulumi manages: ``owner == "pulumi"``).
        analyzed: Whether ``Analyze`` sees each resource's inputs first (the engine does, for
            every resource the program registers).
        outputs: Each resource's outputs by URN; :func:`provider_outputs` where not given.
    """
    stack = _stack_urn(graph)
    provider = _provider(graph)
    stack_resources = [
        analyzer_pb2.AnalyzerResource(
            type="pulumi:pulumi:Stack", urn=stack, name=graph.project, properties=_struct({}),
            options=analyzer_pb2.AnalyzerResourceOptions(),
        )
    ]  # fmt: skip
    for resource in graph.resources:
        parent = resource.parent or stack
        custom = provider if resource.custom else None
        if analyzed:
            answer = analyzer.Analyze(
                analyzer_pb2.AnalyzeRequest(
                    type=resource.type, properties=_struct(resource.inputs), urn=resource.urn,
                    name=resource.name, options=_options(resource, parent), provider=custom,
                )
            )  # fmt: skip
            assert list(answer.diagnostics) == []  # the recorder never reports
        shown = (outputs or {}).get(resource.urn) or provider_outputs(resource)
        stack_resources.append(
            analyzer_pb2.AnalyzerResource(
                type=resource.type, properties=_struct(shown), urn=resource.urn,
                name=resource.name, options=_options(resource, parent), provider=custom,
                parent=parent, dependencies=list(resource.dependencies),
            )
        )  # fmt: skip
    return analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=stack_resources))


def provider_outputs(resource: PlannedResource) -> dict[str, Any]:
    """The inputs pulumi-azure-native also returns as outputs, plus ``name``.

    Its outputs are the Azure response: the resource class's output properties, which leave
    out the request path (resource group, the resource's and its parent's names) and
    write-only values; a type the SDK lacks (a component) keeps its inputs.
    """
    names = _output_names(resource.type)
    if names is None:
        return dict(resource.inputs)
    kept = {k: v for k, v in resource.inputs.items() if k in names}
    return {**kept, "name": resource.azure_name}


@functools.cache
def _output_names(type_token: str) -> frozenset[str] | None:
    _, module, kind = [*type_token.split(":"), "", ""][:3]
    try:
        cls = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), kind)
    except (ImportError, AttributeError, ValueError):
        return None
    return frozenset(
        getattr(member.fget, "_pulumi_name", name)
        for name, member in vars(cls).items()
        if isinstance(member, property)
    )


def pack_verdicts(response: analyzer_pb2.AnalyzeResponse) -> dict[str, Verdict]:
    failed: dict[str, set[str]] = {}
    for diagnostic in response.diagnostics:
        failed.setdefault(diagnostic.policyName, set()).add(diagnostic.urn)
    skipped = {entry.policy_name for entry in response.not_applicable}
    return {
        policy.id: Verdict("fail", frozenset(failed[policy.id])) if policy.id in failed
        else Verdict("not-applicable", frozenset()) if policy.id in skipped
        else Verdict("pass", frozenset())
        for policy in policies.POLICIES
    }  # fmt: skip


def offline_verdicts(graph: ResourceGraph) -> dict[str, Verdict]:
    return {
        result.policy.id: Verdict(result.status, frozenset(f.urn or "" for f in result.findings))
        for result in policies.evaluate(graph)
    }


def pulumi_managed(graph: ResourceGraph) -> ResourceGraph:
    """What Pulumi's engine sees: the plan without what the deploy workflow creates."""
    kept = [r for r in graph.resources if r.owner == "pulumi"]
    return ResourceGraph(graph.project, graph.stack, kept, graph.warnings, graph.config)


# ---------------------------------------------------------------- the same verdicts


@pytest.fixture(scope="module")
def insecure_graph(tmp_path_factory: pytest.TempPathFactory) -> ResourceGraph:
    return plan_project(write_insecure(tmp_path_factory.mktemp("pack-insecure")))


@pytest.fixture(scope="module")
def graphs(
    planned_answer_sets: dict[str, PlannedProject], insecure_graph: ResourceGraph
) -> dict[str, ResourceGraph]:
    planned = {label: pulumi_managed(p.graph) for label, p in planned_answer_sets.items()}
    prod = plan_project(planned_answer_sets["environments"].path, stack="prod")
    return {
        **planned,
        "insecure": insecure_graph,
        # A production stack with its defaults, and one that breaks the production rules:
        # the default project's resources tagged environment prod.
        "environments-prod": pulumi_managed(prod),
        "defaults-as-prod": as_production(planned["defaults"]),
    }


def as_production(graph: ResourceGraph) -> ResourceGraph:
    """The graph with every ``environment`` tag set to prod."""
    resources = [
        replace(r, inputs={**r.inputs, "tags": {**r.inputs["tags"], "environment": "prod"}})
        if isinstance(r.inputs.get("tags"), dict) else r
        for r in graph.resources
    ]  # fmt: skip
    return ResourceGraph(graph.project, "prod", resources, graph.warnings, graph.config)


@pytest.mark.parametrize(
    "label",
    [
        "defaults",
        "aml-endpoint",
        "container-apps-public-ip",
        "bare",
        "insecure",
        "environments-prod",
        "defaults-as-prod",
    ],
)
def test_every_policy_reaches_the_offline_verdict_through_the_pack(
    analyzer: analyzer_pb2_grpc.AnalyzerStub, graphs: dict[str, ResourceGraph], label: str
) -> None:
    graph = graphs[label]
    response = run_pack(analyzer, graph)
    assert pack_verdicts(response) == offline_verdicts(graph)
    mandatory = {p.id for p in policies.POLICIES if p.mandatory}
    for diagnostic in response.diagnostics:
        is_mandatory = diagnostic.policyName in mandatory
        level = analyzer_pb2.MANDATORY if is_mandatory else analyzer_pb2.ADVISORY
        assert diagnostic.enforcementLevel == level, diagnostic.policyName


def test_a_policy_failing_offline_fails_the_pack_with_its_message_and_fix(
    analyzer: analyzer_pb2_grpc.AnalyzerStub, graphs: dict[str, ResourceGraph]
) -> None:
    graph = graphs["insecure"]
    response = run_pack(analyzer, graph)
    failed = {r.policy.id: r for r in policies.evaluate(graph) if r.status == "fail"}
    assert "MLS-COST-001" in failed and "MLS-VM-001" in failed  # a graph-level and a per-VM one
    messages = {(d.policyName, d.urn): d.message for d in response.diagnostics}
    for policy_id, result in failed.items():
        for finding in result.findings:
            message = messages[(policy_id, finding.urn or "")]
            assert finding.message in message and result.policy.fix in message, message


def test_the_pack_offers_every_registered_policy(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    from google.protobuf import empty_pb2

    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "mlstart"
    offered = {p.name: p for p in info.policies}
    assert list(offered) == [RECORDER_NAME, *(p.id for p in policies.POLICIES)]
    assert offered[RECORDER_NAME].policy_type == analyzer_pb2.POLICY_TYPE_RESOURCE
    for policy in policies.POLICIES:
        adapted = offered[policy.id]
        assert adapted.policy_type == analyzer_pb2.POLICY_TYPE_STACK
        level = analyzer_pb2.MANDATORY if policy.mandatory else analyzer_pb2.ADVISORY
        assert adapted.enforcementLevel == level
        assert policy.fix in adapted.description and adapted.remediation_steps == policy.fix
        assert analyzer_pb2.PolicySeverity.Name(adapted.severity).endswith(policy.severity.upper())


# ---------------------------------------------------------------- preview values, outputs


def _account(name: str, **inputs: Any) -> PlannedResource:
    return PlannedResource(
        urn=f"urn:pulumi:dev::pack-units::azure-native:storage:StorageAccount::{name}",
        type="azure-native:storage:StorageAccount", name=name, azure_name=name, custom=True,
        inputs={"accountName": name, "minimumTlsVersion": "TLS1_2", **inputs},
    )  # fmt: skip


def test_a_value_unknown_in_a_preview_defers_the_policy_instead_of_failing_it(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    graph = ResourceGraph(
        "pack-units", "dev", [_account("stpreview", minimumTlsVersion=UNKNOWN_STRING)]
    )
    response = run_pack(analyzer, graph)
    deferred = [d for d in response.diagnostics if d.policyName == "MLS-STO-002"]
    assert len(deferred) == 1
    assert "can't run policy 'MLS-STO-002'" in deferred[0].message
    assert deferred[0].enforcementLevel == analyzer_pb2.ADVISORY and deferred[0].urn == ""
    assert pack_verdicts(response)["MLS-STO-001"].status == "pass"  # known values still judged


def test_a_resource_the_engine_did_not_analyze_is_judged_on_its_outputs(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    account = _account("stoutputs")
    graph = ResourceGraph("pack-units", "dev", [account])
    outputs = {account.urn: {"name": "stoutputs", "minimumTlsVersion": "TLS1_0"}}
    response = run_pack(analyzer, graph, analyzed=False, outputs=outputs)
    assert pack_verdicts(response)["MLS-STO-002"] == Verdict("fail", frozenset({account.urn}))


# ---------------------------------------------------------------- ids, names, the shipped copy


def _resource(name: str, *dependencies: str, **inputs: Any) -> PlannedResource:
    return PlannedResource(
        urn=f"urn:{name}", type="azure-native:compute:VirtualMachine", name=name,
        azure_name=name, custom=True, inputs=inputs, dependencies=dependencies,
    )  # fmt: skip


def test_ids_are_recovered_only_from_an_unambiguous_reference() -> None:
    vm_id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"
    vm, twin = _resource("vm"), _resource("VM")
    clear = _resource("schedule", "urn:vm", targetResourceId=vm_id)
    unclear = _resource("other", "urn:vm", "urn:VM", targets=[{"id": vm_id + "/"}])
    assert recovered_ids([vm, clear]) == {"urn:vm": vm_id}
    assert recovered_ids([vm, twin, unclear]) == {}
    assert recovered_ids([vm, _resource("orphan", targetResourceId=vm_id)]) == {}


def test_every_policy_id_can_name_a_pulumi_policy() -> None:
    assert [p.id for p in policies.POLICIES if policy_name_problem(p.id)] == []
    assert policy_name_problem("all") and policy_name_problem("has space")
    assert policy_name_problem("x" * 101) and not policy_name_problem("MLS-VM-001")


def test_the_pack_runs_on_its_own_copy_of_the_policies(pack_folder: Path) -> None:
    """Only the pack's folder and pulumi-policy: not mlstart, not pulumi-azure-native."""
    probe = (
        "import json, sys\n"
        "import mlstart_infra.policy_pack as pack\n"
        "pack.pack_policies()\n"
        "mine = {n: m.__file__ for n, m in sys.modules.items() if n.startswith('mlstart')}\n"
        "print(json.dumps([mine, 'pulumi_azure_native' in sys.modules]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=pack_folder, env=_pack_env(), capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, (
        "the pack's mlstart_infra/ lacks a module the policies import: add its symlink under "
        f"template/infra/policy-pack/mlstart_infra/\n{result.stderr}"
    )
    modules, azure_native = json.loads(result.stdout)
    assert azure_native is False
    assert modules and all(Path(f).resolve().is_relative_to(pack_folder) for f in modules.values())
    for name, file in modules.items():  # a copy of mlstart's own source, byte for byte
        source = REPO_ROOT / "infra" / Path(file).relative_to(pack_folder)
        assert Path(file).read_bytes() == source.read_bytes(), name


def test_the_pack_sdk_is_pinned_where_the_projects_pin_it(pack_folder: Path) -> None:
    requirements = (pack_folder.parent / "requirements.txt").read_text(encoding="utf-8")
    pinned = re.search(r"^pulumi-policy==(\S+)$", requirements, re.MULTILINE)
    assert pinned, requirements
    dev = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'"pulumi-policy=={pinned.group(1)}"' in dev  # the version these tests run
    assert importlib.metadata.version("pulumi-policy") == pinned.group(1)


def test_ci_runs_the_pack_with_every_preview_and_up(
    planned_answer_sets: dict[str, PlannedProject],
) -> None:
    project = planned_answer_sets["defaults"].path  # GitHub Actions, the default CI
    workflow = yaml.safe_load((project / ".github/workflows/infra.yml").read_text("utf-8"))
    pulumi_steps = [
        step["with"]
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if str(step.get("uses", "")).startswith("pulumi/actions@")
    ]
    assert {step["command"] for step in pulumi_steps} == {"preview", "up"}
    for step in pulumi_steps:
        assert step["policyPacks"] == "${{ github.workspace }}/infra/policy-pack"
    assert (project / "infra/policy-pack/PulumiPolicy.yaml").is_file()
    pipeline = (REPO_ROOT / "template").glob("*azure-pipelines.yml*.jinja")
    commands = [
        line.strip()
        for line in next(pipeline).read_text(encoding="utf-8").splitlines()
        if re.match(r"\s*pulumi (preview|up) ", line)
    ]
    assert len(commands) == 2  # run in infra/ (the step's workingDirectory)
    assert all(command.endswith("--policy-pack policy-pack") for command in commands), commands


def test_the_production_graphs_pass_and_fail_the_production_rules(
    graphs: dict[str, ResourceGraph],
) -> None:
    """What the parity test above runs through the pack: both verdicts of MLS-PROD."""
    for label, wanted in (("environments-prod", {"pass"}), ("defaults-as-prod", {"fail"})):
        verdicts = offline_verdicts(graphs[label])
        assert {verdicts[f"MLS-PROD-00{i}"].status for i in (1, 2)} == wanted, label

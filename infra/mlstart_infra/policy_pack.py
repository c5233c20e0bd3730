"""mlstart's policies as a Pulumi policy pack: the rules of ``mlstart plan``, run by Pulumi.

``pulumi preview --policy-pack infra/policy-pack`` (and ``pulumi up``) starts the generated
project's pack, whose ``__main__.py`` calls :func:`serve`. Every policy in
:data:`mlstart_infra.policies.POLICIES` becomes a Pulumi stack validation policy of the same
name: each check may span resources (a VM and its shutdown schedule), so it needs the whole
stack. Its verdict comes from :func:`mlstart_infra.policies.evaluate`, the function
``mlstart plan`` calls, on a :class:`ResourceGraph` built from what the Pulumi engine reports.

The rules read resource *inputs*; Pulumi hands them to the two kinds of policy differently
(pulumi-policy's ``ResourceValidationArgs.props`` are "the inputs of the resource",
``PolicyResource.props`` in a stack validation are "the outputs of the resource"):

* the engine calls ``Analyze`` with each resource's inputs, after the provider's ``Check``,
  before it creates anything, and ``AnalyzeStack`` once at the end with every resource's
  outputs (https://github.com/pulumi/pulumi/blob/master/pkg/resource/deploy/step_generator.go,
  ``analyzeAll`` and ``AnalyzeResources``), after the update's steps have run
  (https://github.com/pulumi/pulumi/blob/master/pkg/resource/deploy/deployment_executor.go);
  only cloud resources come with a provider (the stack and components have none);
* pulumi-azure-native's outputs are the Azure *response*: they leave out what is only in the
  request path (``resourceGroupName``, ``vmName``, ``accountName``), write-only secrets
  (``adminPassword``) and the ARM id, and, in a preview, mark what the inputs leave unset
  as unknown (https://github.com/pulumi/pulumi-azure-native/blob/master/provider/pkg/convert/previewOutputs.go).

So the pack has one resource validation policy, :data:`RECORDER_NAME`, that reports nothing
and keeps each resource's inputs by URN; the stack policies judge those inputs, exactly what
the offline plan records under the mocks. A resource the engine did not analyze in this run
is judged on its outputs. ARM ids, which neither inputs nor outputs carry for the resource
itself, are recovered from the references to it: a reference ``/subscriptions/.../<name>`` in
a resource that depends on exactly one resource named ``<name>`` is that resource's id.

A value Pulumi does not know yet (during a preview, an id or name another resource will
get) raises pulumi-policy's ``UnknownValueError`` when a check reads it; pulumi-policy then
reports "can't run policy ... during preview" (advisory) and the policy runs with the real
value at ``pulumi up`` (pulumi-policy 1.21.0, ``_PolicyAnalyzerServicer.AnalyzeStack``,
https://github.com/pulumi/pulumi-policy/blob/master/sdk/python/lib/pulumi_policy/policy.py).
A check that finds nothing to judge marks the policy not applicable (``args.not_applicable``),
as ``mlstart plan`` shows "not-applicable".

pulumi-policy is imported only inside the functions that need it: the rest of mlstart never
imports this module.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from mlstart_infra.components.catalog import NAME_INPUTS
from mlstart_infra.offline.graph import PlannedResource, ResourceGraph
from mlstart_infra.policies import POLICIES, Policy, evaluate

if TYPE_CHECKING:
    import pulumi_policy

#: The pack's name (pulumi-policy accepts letters, digits, ``-``, ``_`` and ``.``).
PACK_NAME = "mlstart"
#: The resource validation policy that records every resource's inputs for the stack checks.
RECORDER_NAME = "mlstart-inputs"
#: What a policy name may be: "between 1 and 100 characters and may contain letters, numbers,
#: dashes (-), underscores (_) or periods (.)"
#: (https://www.pulumi.com/docs/iac/crossguard/best-practices/#naming-policies); ``all`` is
#: reserved for the pack-wide setting (pulumi-policy's ``Policy.__init__``).
POLICY_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
#: Type tokens of the engine's own resources (the stack, providers), left out as the plan does.
_ENGINE_TYPES = "pulumi:"
#: Where an ARM id starts.
_ARM_ID = "/subscriptions/"


class InputRecorder:
    """Keeps the inputs the engine sends to ``Analyze``, by URN, for the stack policies.

    The pack is one process for the whole deployment, and pulumi-policy serves ``Analyze``
    calls on several threads.
    """

    def __init__(self) -> None:
        self._inputs: dict[str, Mapping[str, Any]] = {}
        self._lock = threading.Lock()

    def record(
        self,
        args: pulumi_policy.ResourceValidationArgs,
        report_violation: pulumi_policy.ReportViolation,
    ) -> None:
        """A resource validation that keeps ``args.props`` (the inputs) and reports nothing."""
        del report_violation  # never a violation of its own
        with self._lock:
            self._inputs[args.urn] = args.props

    def inputs(self) -> dict[str, Mapping[str, Any]]:
        """The inputs recorded so far, by URN."""
        with self._lock:
            return dict(self._inputs)


def policy_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a Pulumi policy (None when it can)."""
    if name == "all":
        return "'all' is reserved for the setting that applies to every policy"
    if not POLICY_NAME.fullmatch(name):
        return "use 1 to 100 letters, digits, '-', '_' or '.'"
    return None


def pack_policies(policies: Sequence[Policy] | None = None) -> list[pulumi_policy.Policy]:
    """The recorder, then one stack validation policy per mlstart policy.

    Args:
        policies: The policies to adapt; every policy in :data:`POLICIES` by default.

    Returns:
        The Pulumi policies, in the order of ``policies``, after :data:`RECORDER_NAME`.

    Raises:
        ValueError: If a policy id cannot name a Pulumi policy.
    """
    import pulumi_policy

    recorder = InputRecorder()
    adapted: list[pulumi_policy.Policy] = [
        pulumi_policy.ResourceValidationPolicy(
            name=RECORDER_NAME,
            description="Keeps each resource's inputs for mlstart's stack policies; never fails",
            validate=recorder.record,
            enforcement_level=pulumi_policy.EnforcementLevel.ADVISORY,
        )
    ]
    for policy in POLICIES if policies is None else policies:
        problem = policy_name_problem(policy.id)
        if problem:
            raise ValueError(f"policy id {policy.id!r} cannot name a Pulumi policy: {problem}")
        adapted.append(
            pulumi_policy.StackValidationPolicy(
                name=policy.id,
                description=f"{policy.title}. Fix: {policy.fix}",
                validate=_stack_validation(policy, recorder),
                enforcement_level=pulumi_policy.EnforcementLevel(
                    "mandatory" if policy.mandatory else "advisory"
                ),
                display_name=policy.title,
                severity=pulumi_policy.Severity(policy.severity),
                tags=list(policy.references) or None,
                remediation_steps=policy.fix,
            )
        )
    return adapted


def serve(name: str = PACK_NAME) -> None:
    """Run the pack for the Pulumi engine (blocks until the engine stops it).

    Args:
        name: The pack's name, as ``pulumi preview`` shows it.
    """
    import pulumi_policy

    pulumi_policy.PolicyPack(
        name=name,
        policies=pack_policies(),
        enforcement_level=pulumi_policy.EnforcementLevel.ADVISORY,
        description="mlstart's security and cost policies, as `mlstart plan` checks them",
        provider="azure",
    )


def stack_graph(
    resources: Sequence[pulumi_policy.PolicyResource],
    inputs: Mapping[str, Mapping[str, Any]],
) -> ResourceGraph:
    """The resource graph ``mlstart plan`` would record, from what the engine reports.

    Args:
        resources: ``StackValidationArgs.resources`` (outputs, options, dependencies).
        inputs: The inputs recorded from ``Analyze``, by URN; a resource missing here is
            judged on its outputs.

    Returns:
        Every resource but the stack and providers, with ids recovered from references.
    """
    planned = []
    for resource in resources:
        if resource.resource_type.startswith(_ENGINE_TYPES):
            continue
        props = inputs.get(resource.urn, resource.props)
        parent = resource.parent
        planned.append(
            PlannedResource(
                urn=resource.urn,
                type=resource.resource_type,
                name=resource.name,
                azure_name=_azure_name(resource, props),
                # Only cloud resources have a provider: components and the stack have none.
                custom=resource.provider is not None,
                inputs=props,
                parent=None
                if parent is None or parent.resource_type.startswith(_ENGINE_TYPES)
                else parent.urn,
                protect=bool(resource.opts.protect),
                ignore_changes=tuple(resource.opts.ignore_changes or ()),
                dependencies=tuple(
                    d.urn for d in resource.dependencies
                    if not d.resource_type.startswith(_ENGINE_TYPES)
                ),
            )
        )  # fmt: skip
    ids = recovered_ids(planned)
    project, stack = _project_and_stack(resources)
    return ResourceGraph(project, stack, [replace(r, id=ids.get(r.urn)) for r in planned])


def recovered_ids(resources: Sequence[PlannedResource]) -> dict[str, str]:
    """The ARM id of every resource another resource refers to, by URN.

    A string input that starts with ``/subscriptions/`` and ends with ``/<name>``, in a
    resource that depends on exactly one cloud resource whose Azure name is ``<name>``
    (compared without case, as Azure does), is that resource's id.

    Args:
        resources: The planned resources, with their dependencies.

    Returns:
        URN -> the first id found for it.
    """
    by_urn = {r.urn: r for r in resources}
    ids: dict[str, str] = {}
    for resource in resources:
        depends_on = [by_urn[u] for u in resource.dependencies if u in by_urn and by_urn[u].custom]
        if not depends_on:
            continue
        for value in _known_strings(resource.inputs):
            if not value.lower().startswith(_ARM_ID):
                continue
            last = value.rstrip("/").rsplit("/", 1)[-1].lower()
            named = [d for d in depends_on if d.azure_name.lower() == last]
            if len(named) == 1:
                ids.setdefault(named[0].urn, value)
    return ids


def _stack_validation(
    policy: Policy, recorder: InputRecorder
) -> Callable[[pulumi_policy.StackValidationArgs, pulumi_policy.ReportViolation], None]:
    """The stack validation that runs one mlstart policy on the engine's resources."""

    def validate(
        args: pulumi_policy.StackValidationArgs, report_violation: pulumi_policy.ReportViolation
    ) -> None:
        graph = stack_graph(args.resources, recorder.inputs())
        (result,) = evaluate(graph, [policy])
        if result.status == "not-applicable":
            args.not_applicable(f"no resource of the kinds {policy.id} checks")
        by_urn = {r.urn for r in graph.resources}
        for finding in result.findings:
            # A finding about no resource in particular (no budget at all) is the stack's.
            urn = finding.urn if finding.urn in by_urn else None
            report_violation(f"{finding.resource} ({finding.type}): {finding.message}", urn)

    return validate


def _azure_name(resource: pulumi_policy.PolicyResource, props: Mapping[str, Any]) -> str:
    """The Azure name, as the offline plan reads it: the type's name input, else ``name``."""
    for source, key in ((props, NAME_INPUTS.get(resource.resource_type, "name")),
                        (resource.props, "name")):  # fmt: skip
        value = _known(source, key)
        if isinstance(value, str) and value:
            return value
    return resource.name


def _known(mapping: Mapping[str, Any], key: str) -> Any:
    """``mapping[key]``, or None where it is missing or not known yet (a preview)."""
    from pulumi_policy.proxy import UnknownValueError

    try:
        return mapping.get(key)
    except UnknownValueError:
        return None


def _known_strings(value: Any) -> Iterator[str]:
    """Every known string inside nested mappings and lists (unknown values skipped)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key in list(value):
            yield from _known_strings(_known(value, key))
    elif isinstance(value, Sequence):
        for index in range(len(value)):
            yield from _known_strings(_known_item(value, index))


def _known_item(items: Sequence[Any], index: int) -> Any:
    from pulumi_policy.proxy import UnknownValueError

    try:
        return items[index]
    except UnknownValueError:
        return None


def _project_and_stack(resources: Sequence[pulumi_policy.PolicyResource]) -> tuple[str, str]:
    """Project and stack from the first URN (``urn:pulumi:<stack>::<project>::...``)."""
    for resource in resources:
        parts = resource.urn.split("::")
        if len(parts) > 2 and parts[0].startswith("urn:pulumi:"):
            return parts[1], parts[0].removeprefix("urn:pulumi:")
    return "", ""

"""``mlstart plan``: the command-line adapter over :func:`mlstart.core.plan.plan_project`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlstart.commands.output import echo_warning

if TYPE_CHECKING:
    from mlstart.core.plan import PlanReport

_STATUS = {"pass": "PASS", "fail": "FAIL", "not-applicable": "n/a "}
#: How a failed advisory policy is shown: a warning, not a failure of the plan.
_ADVISORY_FAIL = "WARN"


def plan(
    path: Annotated[
        Path,
        typer.Argument(help="The generated project, or its infra/ folder.", file_okay=False),
    ] = Path("."),
    stack: Annotated[
        str, typer.Option("--stack", "-s", help="Stack whose Pulumi.<stack>.yaml to use.")
    ] = "dev",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the plan as JSON (same content).")
    ] = False,
    prices: Annotated[
        Path | None,
        typer.Option("--prices", help="A price table to use instead of mlstart's.", dir_okay=False),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            help="Seconds the project's Pulumi program may run under the mocks.",
            min=1,
        ),
    ] = 120,
    arm: Annotated[
        Path | None,
        typer.Option(
            "--arm",
            help="Also write the planned resources as an ARM template to this file "
            "(for ARM tools such as checkov --framework arm).",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Run the project's Pulumi program offline: what it creates, checks, cost.

    Runs the project's Pulumi program (infra/__main__.py) in this process under Pulumi's
    mocks: no cloud account and no Pulumi CLI are needed. Checks every resource against
    the rules Azure publishes (names, allowed values, references) and the security and cost
    policies, and estimates the monthly cost. Exits 3 when a rule or a mandatory policy
    fails.
    """
    from mlstart.core.plan import check_mandatory, plan_project, write_arm

    report = plan_project(path, stack=stack, prices=prices, timeout=timeout)
    if arm is not None:
        written = write_arm(report, arm)
        if not as_json:
            typer.echo(f"ARM template written to {written}")
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        for warning in report.graph.warnings:
            echo_warning(warning)
        typer.echo(render_text(report))
    check_mandatory(report)


def render_text(report: PlanReport) -> str:
    """The human-readable plan: resources by component, policies, then costs."""
    return "\n".join(
        [*_resources(report), "", *_conformance(report), "", *_policies(report), "",
         *_costs(report)]
    )  # fmt: skip


def _short(type_token: str) -> str:
    return type_token.removeprefix("azure-native:")


def _resources(report: PlanReport) -> list[str]:
    graph = report.graph
    cloud = graph.cloud_resources
    groups: dict[str, list[str]] = {}
    for resource in cloud:
        component = graph.component_of(resource)
        title = f"{component.name} ({component.type})" if component else "(top level)"
        flag = "  [protected]" if resource.protect else ""
        if resource.owner != "pulumi":
            flag += f"  [created by {resource.owner}, not pulumi up]"
        groups.setdefault(title, []).append(
            f"    {_short(resource.type):<46} {resource.azure_name}{flag}"
        )
    lines = [f"Plan for {graph.project}, stack {graph.stack}: {len(cloud)} resources"]
    for title, rows in groups.items():
        lines += [f"  {title}", *rows]
    return lines


def _conformance(report: PlanReport) -> list[str]:
    findings = report.conformance
    if not findings:
        return ["Azure rules: every resource conforms (names, allowed values, references)"]
    count = f"{len(findings)} finding{'s' if len(findings) != 1 else ''}"
    lines = [f"Azure rules: {count} (the deployment would fail)"]
    for finding in findings:
        lines.append(f"  FAIL  {finding.id:<9} {finding.resource}: {finding.message}")
        lines.append(f"        fix: {finding.fix}")
    return lines


def _policies(report: PlanReport) -> list[str]:
    failed = [r for r in report.policies if r.status == "fail" and r.policy.mandatory]
    warned = [r for r in report.policies if r.status == "fail" and not r.policy.mandatory]
    passed = sum(r.status == "pass" for r in report.policies)
    skipped = sum(r.status == "not-applicable" for r in report.policies)
    lines = [
        f"Policies: {passed} passed, {len(failed)} failed, {len(warned)} advisory "
        f"warning{'s' if len(warned) != 1 else ''}, {skipped} not applicable"
    ]
    for result in report.policies:
        policy = result.policy
        kind = "mandatory" if policy.mandatory else "advisory"
        refs = f"  [{', '.join(policy.references)}]" if policy.references else ""
        status = _STATUS[result.status]
        if result.status == "fail" and not policy.mandatory:
            status = _ADVISORY_FAIL
        lines.append(
            f"  {status}  {policy.id:<12} {policy.severity:<6} {kind:<9}  {policy.title}{refs}"
        )
        if result.status == "fail":
            lines += [f"        {f.resource}: {f.message}" for f in result.findings]
            lines.append(f"        fix: {policy.fix}")
    return lines


def _money(value: float | None) -> str:
    return "unpriced" if value is None else f"{value:,.2f}"


def _costs(report: PlanReport) -> list[str]:
    cost = report.cost
    lines = [
        f"Monthly cost estimate ({cost.currency}, list prices recorded {cost.recorded_on})",
        f"  {'resource':<28} {'what':<48} {'always on':>10} {'scheduled':>10}",
    ]
    for line in cost.lines:
        if line.basis in ("free",):
            continue
        what = line.description if line.basis != "usage-based" else f"usage-based: {line.note}"
        always = _money(line.always_on) if line.basis != "usage-based" else "-"
        scheduled = _money(line.scheduled) if line.basis != "usage-based" else "-"
        lines.append(f"  {line.resource[:28]:<28} {what[:48]:<48} {always:>10} {scheduled:>10}")
        if line.basis == "compute" and line.scheduled == 0 and line.always_on and line.note:
            # Scaled to zero it costs nothing idle, and always on is every node all month:
            # neither figure says what it costs while it runs; the note does (the hourly rate).
            lines.append(f"  {'':<28} {line.note}")
    lines.append(
        f"  {'total (priced lines)':<77} {_money(cost.total_always_on):>10} "
        f"{_money(cost.total_scheduled):>10}"
    )
    if cost.unpriced:
        names = ", ".join(f"{line.resource} ({line.note})" for line in cost.unpriced)
        lines.append(f"  unpriced, not in the totals: {names}")
    lines.append("  assumptions: " + "; ".join(cost.assumptions))
    lines.append(f"  source: {cost.source}")
    return lines

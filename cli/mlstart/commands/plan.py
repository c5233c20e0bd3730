"""``mlstart plan``: the command-line adapter over :func:`mlstart.core.plan.plan_project`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlstart.commands.options import stack_option
from mlstart.commands.output import echo_warning

if TYPE_CHECKING:
    from mlstart.core.plan import PlanReport
    from mlstart.core.plan_diff import PlanDiff

_STATUS = {"pass": "PASS", "fail": "FAIL", "not-applicable": "n/a "}
#: How a failed advisory policy is shown: a warning, not a failure of the plan.
_ADVISORY_FAIL = "WARN"


def plan(
    path: Annotated[
        Path,
        typer.Argument(help="The generated project, or its infra/ folder.", file_okay=False),
    ] = Path("."),
    stack: Annotated[str | None, stack_option("Stack whose Pulumi.<stack>.yaml to use")] = None,
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
    diff: Annotated[
        Path | None,
        typer.Option(
            "--diff",
            help="Compare with a plan saved earlier by `mlstart plan --json > BASE.json`: "
            "the monthly cost change per resource, the total, and the policies whose verdict "
            "changed (with --json, the diff as JSON).",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Run the project's Pulumi program offline: what it creates, checks, cost.

    Runs the project's Pulumi program (infra/__main__.py) in this process under Pulumi's
    mocks: no cloud account and no Pulumi CLI are needed. Checks every resource against
    the rules Azure publishes (names, allowed values, references) and the security and cost
    policies, and estimates the monthly cost. Exits 3 when a rule or a mandatory policy
    fails. With --diff, prints what changed since a saved plan instead of the plan.
    """
    from mlstart.core.environments import resolve_stack
    from mlstart.core.plan import check_mandatory, plan_project, write_arm
    from mlstart.core.plan_diff import diff_plans, load_plan

    stack = resolve_stack(path, stack)

    base = load_plan(diff) if diff is not None else None
    report = plan_project(path, stack=stack, prices=prices, timeout=timeout)
    if arm is not None:
        written = write_arm(report, arm)
        if not as_json:
            typer.echo(f"ARM template written to {written}")
    if base is not None:
        changes = diff_plans(base, json.loads(json.dumps(report.to_dict(), default=str)))
        if as_json:
            typer.echo(json.dumps(changes.to_dict(), indent=2))
        else:
            typer.echo(render_diff(changes))
    elif as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        for warning in report.graph.warnings:
            echo_warning(warning)
        typer.echo(render_text(report))
    check_mandatory(report)


def render_text(report: PlanReport) -> str:
    """The human-readable plan: resources by component, policies, then costs."""
    idle = [*_idle_shutdown(report), ""] if report.idle_shutdown else []
    return "\n".join(
        [*_resources(report), "", *idle, *_conformance(report), "", *_policies(report), "",
         *_costs(report)]
    )  # fmt: skip


def _signed(value: float) -> str:
    return f"{value:+,.2f}" if abs(value) >= 0.005 else "0.00"


def render_diff(diff: PlanDiff) -> str:
    """The human-readable diff: cost per changed resource, the totals, changed verdicts."""
    stacks = (
        diff.head_stack
        if diff.base_stack == diff.head_stack
        else (f"{diff.base_stack} -> {diff.head_stack}")
    )
    lines = [f"Plan diff for {diff.project}, stack {stacks} (monthly, {diff.currency})"]
    if not diff.costs:
        lines.append("  no resource added, removed or changed in cost")
    else:
        lines.append(
            f"  {'':<8} {'resource':<28} {'always on: before':>17} {'after':>10} {'delta':>10}"
            f"   {'scheduled: before':>17} {'after':>10} {'delta':>10}"
        )
        for change in diff.costs:
            # An absent side is "-": "unpriced" is for a resource the price table lacks.
            before = ("-", "-")
            if change.change != "added":
                before = (_money(change.before_always_on), _money(change.before_scheduled))
            after = ("-", "-")
            if change.change != "removed":
                after = (_money(change.after_always_on), _money(change.after_scheduled))
            lines.append(
                f"  {change.change:<8} {change.resource[:28]:<28} "
                f"{before[0]:>17} {after[0]:>10} {_signed(change.delta_always_on):>10}   "
                f"{before[1]:>17} {after[1]:>10} {_signed(change.delta_scheduled):>10}"
            )
            lines.append(f"  {'':<8} {_short(change.type)}: {change.description}")
    lines.append(
        f"  {'total':<37} {_money(diff.before_total_always_on):>17} "
        f"{_money(diff.after_total_always_on):>10} {_signed(diff.delta_always_on):>10}   "
        f"{_money(diff.before_total_scheduled):>17} {_money(diff.after_total_scheduled):>10} "
        f"{_signed(diff.delta_scheduled):>10}"
    )
    if not diff.policies:
        lines.append("Policies: no verdict changed")
    else:
        lines.append(
            f"Policies: {len(diff.policies)} "
            f"verdict{'s' if len(diff.policies) != 1 else ''} changed"
        )
        for policy in diff.policies:
            kind = "mandatory" if policy.mandatory else "advisory"
            status = (
                f"{policy.before_status or 'not checked'} -> {policy.after_status or 'not checked'}"
            )
            severity = policy.after_severity or policy.before_severity or ""
            if (
                policy.before_severity
                and policy.after_severity
                and (policy.before_severity != policy.after_severity)
            ):
                severity = f"{policy.before_severity} -> {policy.after_severity}"
            lines.append(
                f"  {policy.change:<16} {policy.id:<12} {kind:<9} {status:<28} {severity:<16} "
                f"{policy.title}"
            )
    if diff.before_passed != diff.after_passed:
        verdict = "passes" if diff.after_passed else "fails"
        lines.append(
            f"The plan {verdict} now (it {'failed' if diff.after_passed else 'passed'} before)"
        )
    return "\n".join(lines)


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


def _idle_shutdown(report: PlanReport) -> list[str]:
    """Per VM: the agent's thresholds, the identity and the role it uses, or the opt-out."""
    lines = ["Idle shutdown (an agent on the VM deallocates it when idle, besides the schedule)"]
    for view in report.idle_shutdown:
        if view.mode == "off":
            lines.append(f"  {view.vm}: off (tag idle-shutdown: off)")
            continue
        if view.mode == "missing":
            lines.append(f"  {view.vm}: no agent and no opt-out")
            continue
        lines.append(
            f"  {view.vm}: agent deallocates after {(view.minutes or '?').removesuffix('m')} idle "
            f"minutes (no login or SSH session, CPU < {view.cpu_percent}%, "
            f"GPU < {view.gpu_percent}%)"
        )
        lines.append(f"    identity: {view.identity or 'none'} (the VM's own)")
        if view.role:
            lines.append(f"    role: {view.role}: {', '.join(view.actions) or 'no action'}")
        lines.append(f"    assigned at: {view.scope or 'nowhere'}")
        lines += [f"    problem: {problem}" for problem in view.problems]
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


#: A price older than this many days is flagged in the plan's list of sources.
STALE_AFTER_DAYS = 90


def _costs(report: PlanReport, today: date | None = None) -> list[str]:
    cost = report.cost
    dates = sorted({line.recorded_on for line in cost.lines if line.recorded_on})
    recorded = f"{dates[0]} to {dates[-1]}" if len(dates) > 1 else cost.recorded_on
    sources = list(dict.fromkeys(line.source for line in cost.lines if line.recorded_on))
    lines = [
        f"Monthly cost estimate ({cost.currency}, list prices recorded {recorded})",
        f"  {'resource':<28} {'what':<48} {'always on':>10} {'scheduled':>10}  price of",
    ]
    for line in cost.lines:
        if line.basis in ("free",):
            continue
        what = line.description if line.basis != "usage-based" else f"usage-based: {line.note}"
        always = _money(line.always_on) if line.basis != "usage-based" else "-"
        scheduled = _money(line.scheduled) if line.basis != "usage-based" else "-"
        dated = "-"
        if line.recorded_on:
            dated = f"{line.recorded_on} [{sources.index(line.source) + 1}]"
        lines.append(
            f"  {line.resource[:28]:<28} {what[:48]:<48} {always:>10} {scheduled:>10}  {dated}"
        )
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
    lines.append("  sources of the prices:" if sources else f"  source: {cost.source}")
    for number, source in enumerate(sources, start=1):
        oldest = min(line.recorded_on for line in cost.lines if line.source == source)
        lines.append(f"    [{number}] {source}{_age(oldest, today or date.today())}")
    return lines


def _age(recorded_on: str, today: date) -> str:
    """A warning when a price is older than :data:`STALE_AFTER_DAYS` ("" otherwise)."""
    try:
        days = (today - date.fromisoformat(recorded_on)).days
    except ValueError:
        return ""
    if days <= STALE_AFTER_DAYS:
        return ""
    return f" (oldest price {days} days old: run `mlstart prices refresh`)"

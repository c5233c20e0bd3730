"""The offline plan: run a project's Pulumi program under recording mocks.

No cloud account and no Pulumi CLI are needed. The program runs in this process as a
preview would (``pulumi.runtime.is_dry_run()`` is true), with the stack's config read
from ``Pulumi.<stack>.yaml``; what it registers becomes a :class:`ResourceGraph`.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import NoReturn

from mlstart_infra.components.catalog import SECRET_PLACEHOLDER
from mlstart_infra.offline.graph import PlannedResource, ResourceGraph
from mlstart_infra.project import ProjectError, find_project, stack_config
from mlstart_infra.project import read_yaml as _read_yaml

#: The project could not be read; one error class for every reader of the project on disk.
PlanInputError = ProjectError


class StackConfigError(PlanInputError):
    """The program refused the stack's config (a missing key, a value it cannot use)."""


#: The components' own errors for a bad stack config, by name: each generated project has
#: its own copy of the components, so the classes are not mlstart's.
STACK_CONFIG_ERRORS = frozenset({"SettingsError", "SshKeyError", "MissingSshKeyError"})


class ProgramFailedError(RuntimeError):
    """The Pulumi program raised or logged an error while it ran under the mocks."""


#: How long the program may run under the mocks before the plan gives up (seconds).
DEFAULT_TIMEOUT = 120.0


class _ProgramExit(Exception):
    """The program called ``os._exit`` (turned into an exception while it runs)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def plan_project(
    path: Path | str, *, stack: str = "dev", timeout: float | None = DEFAULT_TIMEOUT
) -> ResourceGraph:
    """Run the project's Pulumi program under recording mocks and return its resources.

    The program is the project's own code and runs in this process: what it prints goes to
    standard error (so a JSON plan on standard output stays valid), ending early
    (``sys.exit``, ``os._exit``) fails the plan instead of ending mlstart, and it must
    finish within ``timeout`` seconds.

    Args:
        path: The generated project (or its ``infra/`` folder).
        stack: The stack whose ``Pulumi.<stack>.yaml`` config the program reads.
        timeout: Seconds the program may run; None for no limit.

    Raises:
        PlanInputError: If the project or stack config cannot be used.
        ProgramFailedError: If the program fails, ends early or runs out of time.
    """
    from mlstart_infra.offline.mocks import azure_name, run_program

    project = find_project(path)
    config, secrets = stack_config(project, stack)
    try:
        with _guarded_program(timeout):
            run = run_program(
                project.main, project=project.name, stack=stack, config=config, secret_keys=secrets
            )
    except (SystemExit, _ProgramExit) as ended:
        raise ProgramFailedError(
            f"the Pulumi program in {project.main} ended (exit code {ended.code}) before the "
            "plan was complete: nothing was checked"
        ) from None
    except _ProgramTimeout:
        raise ProgramFailedError(
            f"the Pulumi program in {project.main} did not finish within {timeout:g} s under "
            "the mocks (a loop or a network call?); raise the limit with --timeout"
        ) from None
    except Exception as error:  # the user's program can raise anything
        if type(error).__name__ in STACK_CONFIG_ERRORS:
            raise StackConfigError(f"{_one_line(error)}") from error
        raise ProgramFailedError(
            f"the Pulumi program in {project.main} failed under the mocks: "
            f"{type(error).__name__}: {_one_line(error)}"
        ) from error
    if run.errors:
        raise ProgramFailedError(f"the Pulumi program logged an error: {_one_line(run.errors[0])}")
    skipped = {r.urn for r in run.resources if r.type.startswith("pulumi:")}
    resources = [
        PlannedResource(
            urn=r.urn,
            type=r.type,
            name=r.name,
            azure_name=azure_name(r.type, r.name, r.inputs) if r.custom else r.name,
            custom=r.custom,
            inputs=r.inputs,
            parent=None if r.parent in skipped else r.parent,
            protect=r.protect,
            id=r.id if r.custom else None,
            ignore_changes=r.ignore_changes,
            dependencies=tuple(d for d in r.dependencies if d not in skipped),
        )
        for r in run.resources
        if r.urn not in skipped
    ]
    resources += ci_owned_deployments(project.folder.parent, resources)
    # The engine registers resources as their inputs resolve, in no fixed order: sort them
    # so that plans (text, JSON, ARM) of the same program are the same, run after run.
    resources.sort(key=lambda r: r.urn)
    shown = {k: SECRET_PLACEHOLDER if k in secrets else v for k, v in config.items()}
    return ResourceGraph(project.name, stack, resources, list(run.warnings), shown)


def _one_line(error: BaseException | str) -> str:
    return " ".join(str(error).split())


class _ProgramTimeout(Exception):
    """The program ran longer than the plan allows."""


@contextmanager
def _guarded_program(timeout: float | None) -> Iterator[None]:
    """Run the project's code with its output on stderr, ``os._exit`` caught and a timer."""
    real_exit = os._exit

    def refuse_exit(status: int) -> NoReturn:
        raise _ProgramExit(status)

    def out_of_time(_signum: int, _frame: object) -> None:
        raise _ProgramTimeout

    timed = timeout is not None and threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGALRM, out_of_time) if timed else None
    os._exit = refuse_exit
    try:
        if timed:
            signal.setitimer(signal.ITIMER_REAL, float(timeout or 0))
        with redirect_stdout(sys.stderr):
            yield
    finally:
        if timed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        os._exit = real_exit


#: Where a project keeps the online deployment its deploy workflow creates.
ONLINE_DEPLOYMENT_FILE = Path("aml") / "online-deployment.yml"


def ci_owned_deployments(root: Path, resources: list[PlannedResource]) -> list[PlannedResource]:
    """The online deployment the deploy workflow creates, read from the project's YAML.

    Pulumi creates the endpoint only (a deployment needs a registered model, which the
    first ``pulumi up`` cannot have); the workflow creates ``aml/online-deployment.yml``'s
    deployment under it. The plan shows, judges and prices it like the program's own
    resources, marked ``owner="ci"``, so the estimate covers exactly what will run.

    Args:
        root: The generated project (the folder above ``infra/``).
        resources: The program's resources; the deployment joins the endpoint in them.

    Raises:
        PlanInputError: If the file exists but is not a deployment spec.
    """
    from mlstart_infra.components.catalog import DEPLOYMENT, ENDPOINT

    path = root / ONLINE_DEPLOYMENT_FILE
    endpoints = [r for r in resources if r.type == ENDPOINT]
    if not endpoints or not path.is_file():
        return []
    spec = _read_yaml(path)
    try:
        name = str(spec["name"])
        instance_type = str(spec["instance_type"])
        count = int(spec.get("instance_count", 1))
    except (KeyError, TypeError, ValueError) as error:
        raise PlanInputError(
            f"{path}: needs name, instance_type and instance_count ({_one_line(error)})"
        ) from error
    endpoint = endpoints[0]
    tags = spec.get("tags") if isinstance(spec.get("tags"), dict) else {}
    inputs = {
        "deploymentName": name,
        "endpointName": str(spec.get("endpoint_name") or endpoint.azure_name),
        "workspaceName": endpoint.get("workspaceName"),
        "resourceGroupName": endpoint.get("resourceGroupName"),
        "location": endpoint.get("location"),
        "kind": "Managed",
        "sku": {"name": "Default", "capacity": count},
        "properties": {"endpointComputeType": "Managed", "instanceType": instance_type},
        "tags": {str(k): str(v) for k, v in (tags or {}).items()},
    }
    return [
        PlannedResource(
            urn=f"{endpoint.urn}$ci-deployment::{name}",
            type=DEPLOYMENT,
            name=name,
            azure_name=name,
            custom=True,
            inputs=inputs,
            parent=endpoint.parent,
            id=f"{endpoint.id}/deployments/{name}",
            owner="ci",
            dependencies=(endpoint.urn,),
        )
    ]

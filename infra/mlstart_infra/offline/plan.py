"""The offline plan: run a project's Pulumi program under recording mocks.

No cloud account and no Pulumi CLI are needed. The program runs in this process as a
preview would (``pulumi.runtime.is_dry_run()`` is true), with the stack's config read
from ``Pulumi.<stack>.yaml``; what it registers becomes a :class:`ResourceGraph`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlstart_infra.offline.graph import PlannedResource, ResourceGraph

#: Shown instead of encrypted (``secure:``) config values, which cannot be read offline.
SECRET_PLACEHOLDER = "[secret]"


class PlanInputError(ValueError):
    """The Pulumi project or its stack config cannot be used."""


class ProgramFailedError(RuntimeError):
    """The Pulumi program raised or logged an error while it ran under the mocks."""


@dataclass(frozen=True)
class PulumiProject:
    """A Pulumi project on disk.

    Attributes:
        folder: The folder holding ``Pulumi.yaml``.
        name: The project name.
        main: The program's folder (holding ``__main__.py``), or its file.
        defaults: Config defaults declared in ``Pulumi.yaml``.
    """

    folder: Path
    name: str
    main: Path
    defaults: dict[str, Any]


def find_project(path: Path | str) -> PulumiProject:
    """Find the Pulumi project in ``path`` or in its ``infra/`` folder.

    Raises:
        PlanInputError: If there is none, or it is not a Python program.
    """
    root = Path(path).expanduser().resolve()
    folder = next((c for c in (root, root / "infra") if (c / "Pulumi.yaml").is_file()), None)
    if folder is None:
        raise PlanInputError(f"no Pulumi.yaml in {root} or {root / 'infra'}")
    spec = _read_yaml(folder / "Pulumi.yaml")
    runtime = spec.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise PlanInputError(f"{folder / 'Pulumi.yaml'}: only Python programs can be planned")
    name = str(spec.get("name") or "")
    if not name:
        raise PlanInputError(f"{folder / 'Pulumi.yaml'} has no project name")
    main = (folder / str(spec.get("main") or ".")).resolve()
    if not (main.is_file() or (main / "__main__.py").is_file()):
        raise PlanInputError(f"no __main__.py in {main}")
    defaults = spec.get("config") or {}
    return PulumiProject(folder, name, main, defaults if isinstance(defaults, dict) else {})


def stack_config(project: PulumiProject, stack: str) -> tuple[dict[str, str], list[str]]:
    """Read the stack's config as the Pulumi CLI would pass it to the program.

    Returns:
        Full keys (``project:key``) to string values, and the keys that are secret.

    Raises:
        PlanInputError: If the stack file is missing or malformed.
    """
    path = project.folder / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise PlanInputError(
            f"no stack config {path}; create it with `pulumi stack init {stack}` in "
            f"{project.folder} or pick another stack with --stack"
        )
    values: dict[str, str] = {}
    secrets: list[str] = []
    for key, spec in project.defaults.items():
        default = spec.get("default", spec.get("value")) if isinstance(spec, dict) else spec
        if default is not None:
            values[_full_key(project.name, str(key))] = _as_config_string(default)
    config = _read_yaml(path).get("config") or {}
    if not isinstance(config, dict):
        raise PlanInputError(f"{path}: 'config' must be a mapping")
    for key, value in config.items():
        full = _full_key(project.name, str(key))
        if isinstance(value, dict) and "secure" in value:
            values[full] = SECRET_PLACEHOLDER
            secrets.append(full)
        else:
            values[full] = _as_config_string(value)
    return values, secrets


def plan_project(path: Path | str, *, stack: str = "dev") -> ResourceGraph:
    """Run the project's Pulumi program under recording mocks and return its resources.

    Args:
        path: The generated project (or its ``infra/`` folder).
        stack: The stack whose ``Pulumi.<stack>.yaml`` config the program reads.

    Raises:
        PlanInputError: If the project or stack config cannot be used.
        ProgramFailedError: If the program fails.
    """
    from mlstart_infra.offline.mocks import azure_name, run_program

    project = find_project(path)
    config, secrets = stack_config(project, stack)
    try:
        run = run_program(
            project.main, project=project.name, stack=stack, config=config, secret_keys=secrets
        )
    except Exception as error:  # the user's program can raise anything
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
        )
        for r in run.resources
        if r.urn not in skipped
    ]
    shown = {k: SECRET_PLACEHOLDER if k in secrets else v for k, v in config.items()}
    return ResourceGraph(project.name, stack, resources, list(run.warnings), shown)


def _full_key(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _as_config_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise PlanInputError(f"cannot read {path}: {_one_line(error)}") from error
    if not isinstance(data, dict):
        raise PlanInputError(f"{path} is not a YAML mapping")
    return data


def _one_line(error: BaseException | str) -> str:
    return " ".join(str(error).split())

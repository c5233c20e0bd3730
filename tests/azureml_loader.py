"""Load Azure ML YAML files with Microsoft's own loaders (azure-ai-ml) and report what they hold.

Run in an environment that has azure-ai-ml (it cannot share mlstart's: its opentelemetry pins
clash with pulumi's), e.g.::

    uv run --no-project --with azure-ai-ml==1.35.2 python tests/azureml_loader.py FILE...

Each file's loader is chosen from its ``$schema`` (a file with an unknown schema fails), a batch
deployment's also from its ``type``. Jobs are also validated the way ``az ml job create`` does
before it submits, where azure-ai-ml has such a check (command jobs), and every job's data
bindings (``${{inputs.data}}``, ``${{search_space.C}}``) must name a declared input, output or
search-space entry; endpoint names and deployments' scoring scripts get the checks
``az ml ... create`` makes. Prints one JSON object: for each file, whether it loaded, the error
if not, and the fields the deployability tests check. Exits 1 if any file failed to load.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from azure.ai import ml
from azure.ai.ml._utils._endpoint_utils import validate_scoring_script
from azure.ai.ml.entities._endpoint._endpoint_helpers import validate_endpoint_or_deployment_name
from azure.ai.ml.entities._load_functions import (
    load_model_batch_deployment,
    load_pipeline_component_batch_deployment,
)

#: A data binding in a job's command: ``${{inputs.data}}``, ``${{search_space.C}}``, ...
BINDING = re.compile(r"\$\{\{\s*([A-Za-z_]+)\.([A-Za-z0-9_]+)\s*\}\}")
#: ``$schema`` file name -> the azure-ai-ml loader for it.
LOADERS: dict[str, Callable[..., Any]] = {
    "commandJob.schema.json": ml.load_job,
    "sweepJob.schema.json": ml.load_job,
    "pipelineJob.schema.json": ml.load_job,
    "commandComponent.schema.json": ml.load_component,
    "environment.schema.json": ml.load_environment,
    "data.schema.json": ml.load_data,
    "model.schema.json": ml.load_model,
    "amlCompute.schema.json": ml.load_compute,
    "managedOnlineEndpoint.schema.json": ml.load_online_endpoint,
    "managedOnlineDeployment.schema.json": ml.load_online_deployment,
    "kubernetesOnlineDeployment.schema.json": ml.load_online_deployment,
    "batchEndpoint.schema.json": ml.load_batch_endpoint,
    "batchDeployment.schema.json": ml.load_batch_deployment,
}
#: A batch deployment's loader by its ``type``, as ``az ml batch-deployment create`` picks it
#: (azure-cli-extensions, azext_mlv2/manual/custom/batch_deployment.py): a model deployment's
#: ``settings`` are unknown to the untyped loader.
BATCH_DEPLOYMENT_LOADERS: dict[str, Callable[..., Any]] = {
    "model": load_model_batch_deployment,
    "pipeline": load_pipeline_component_batch_deployment,
}


def plain(value: Any) -> Any:
    """A JSON-ready copy of an azure-ai-ml value (entities become their YAML dictionaries)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if hasattr(value, "_to_dict"):
        return plain(value._to_dict())
    return str(value)


def environment_of(environment: Any, folder: Path) -> dict[str, Any]:
    """The image, or the build context (absolute) and Dockerfile, of an environment."""
    if isinstance(environment, str):
        return {"reference": environment}
    build = getattr(environment, "build", None)
    return {
        "image": getattr(environment, "image", None),
        "build_path": str((folder / build.path).resolve()) if build is not None else None,
        "dockerfile_path": getattr(build, "dockerfile_path", None),
    }


def distribution_of(distribution: Any) -> dict[str, Any] | None:
    """A job's distribution: its type and processes per node."""
    if distribution is None:
        return None
    return {
        "type": distribution.type,
        "process_count_per_instance": getattr(distribution, "process_count_per_instance", None),
    }


def inputs_of(inputs: Any) -> dict[str, Any]:
    """Each declared input's type and path."""
    return {
        name: {"type": getattr(item, "type", None), "path": getattr(item, "path", None)}
        for name, item in (inputs or {}).items()
    }


def check_bindings(command: str, declared: dict[str, set[str]]) -> None:
    """Raise ValueError naming each ``${{group.name}}`` in ``command`` that is not declared."""
    unknown = sorted(
        f"{group}.{name}"
        for group, name in BINDING.findall(command or "")
        if name not in declared.get(group, set())
    )
    if unknown:
        raise ValueError(f"the command binds undeclared {', '.join(unknown)}")


def summarize(kind: str, entity: Any, folder: Path) -> dict[str, Any]:
    """The fields of a loaded entity (from a file in ``folder``) that the tests check."""
    summary: dict[str, Any] = {"class": type(entity).__name__}
    if kind in {"commandJob", "sweepJob", "pipelineJob"}:
        for validatable in (entity, getattr(entity, "component", None)):
            if hasattr(validatable, "_validate"):
                validatable._validate(raise_error=True)
        trial = getattr(entity, "trial", None)
        check_bindings(
            getattr(trial or entity, "command", None) or "",
            {
                "inputs": set(entity.inputs or {}),
                "outputs": set(entity.outputs or {}),
                "search_space": set(getattr(entity, "search_space", None) or {}),
            },
        )
        resources = getattr(entity, "resources", None)
        distribution = getattr(entity, "distribution", None)
        limits = getattr(entity, "limits", None)
        environment = getattr(trial or entity, "environment", None)
        summary |= {
            "type": entity.type,
            "compute": entity.compute,
            "inputs": inputs_of(entity.inputs),
            "environment": environment_of(environment, folder) if environment else None,
            "distribution": distribution_of(distribution),
            "instance_count": getattr(resources, "instance_count", None),
            "instance_type": getattr(resources, "instance_type", None),
            "max_concurrent_trials": getattr(limits, "max_concurrent_trials", None),
            "command": getattr(trial or entity, "command", None),
        }
    elif kind == "environment":
        summary |= {"name": entity.name, **environment_of(entity, folder)}
    elif kind == "data":
        summary |= {
            "name": entity.name,
            "version": entity.version,
            "type": entity.type,
            "path": str(entity.path),
            "tags": plain(entity.tags),
        }
    else:
        # What `az ml ... create` checks before it sends: the endpoint name's length and
        # characters, and that a deployment's scoring script is there and parses.
        if kind.endswith("Endpoint"):
            validate_endpoint_or_deployment_name(entity.name)
        if kind == "batchDeployment" and getattr(entity, "code_configuration", None):
            validate_scoring_script(entity)
        summary |= {"dict": plain(entity._to_dict())}
    return summary


def load(path: Path) -> dict[str, Any]:
    """Load one file with the loader its ``$schema`` names; never raises."""
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        schema = str(spec.get("$schema", ""))
        name = schema.rsplit("/", 1)[-1]
        loader = LOADERS.get(name)
        if name == "batchDeployment.schema.json":
            loader = BATCH_DEPLOYMENT_LOADERS.get(str(spec.get("type")), loader)
        if loader is None:
            return {"ok": False, "error": f"no azure-ai-ml loader for $schema {schema!r}"}
        entity = loader(path)
        return {"ok": True, "schema": name, **summarize(name.split(".")[0], entity, path.parent)}
    except Exception as error:  # every failure is reported, file by file
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}


def main(arguments: list[str]) -> int:
    """Load every file named on the command line; print the JSON report."""
    report = {argument: load(Path(argument)) for argument in arguments}
    json.dump(report, sys.stdout, indent=2, sort_keys=True)
    return 0 if all(result["ok"] for result in report.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

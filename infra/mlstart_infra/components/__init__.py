"""Pulumi components for an ML project on Azure.

This package is rendered verbatim into every generated project as ``infra/components``
(mlstart's own copy, ``mlstart_infra.components``, is the single source). It imports only
``pulumi``, ``pulumi_azure_native`` and the standard library, and refers to its own modules
relatively, so it works under either name.

The public names below load lazily: ``catalog`` (type tokens, tag keys) and ``naming``
(Azure's naming rules) are plain Python, so mlstart's offline policies, prices and tests
import them without importing Pulumi.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> the module (in this package) that defines it.
_EXPORTS = {
    "CiIdentity": "ci_identity",
    "CiIdentityArgs": "ci_identity",
    "ComputeInstanceWorkstation": "compute_instance",
    "ComputeInstanceWorkstationArgs": "compute_instance",
    "ContainerAppServing": "serving",
    "ContainerAppServingArgs": "serving",
    "OnlineEndpointServing": "serving",
    "OnlineEndpointServingArgs": "serving",
    "CostGuard": "cost_guard",
    "CostGuardArgs": "cost_guard",
    "GpuWorkstation": "workstation",
    "GpuWorkstationArgs": "workstation",
    "IdleShutdown": "idle_shutdown",
    "ModelRegistry": "model_registry",
    "ModelRegistryArgs": "model_registry",
    "MlWorkspace": "workspace",
    "MlWorkspaceArgs": "workspace",
    "TrainingCluster": "cluster",
    "TrainingClusterArgs": "cluster",
    "MissingSshKeyError": "ssh_key",
    "missing_key_marker": "ssh_key",
    "read_ssh_public_key": "ssh_key",
    "ssh_public_key_for_program": "ssh_key",
    "REQUIRED_TAG_KEYS": "catalog",
    "standard_tags": "tags",
    "Settings": "settings",
    "SettingsError": "settings",
    "load_settings": "settings",
    "ProjectNames": "naming",
    "project_names": "naming",
    "name_suffix": "naming",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])

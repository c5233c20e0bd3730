"""Pulumi components for an ML project on Azure.

This package is rendered verbatim into every generated project as ``infra/components``
(mlstart's own copy, ``mlstart_infra.components``, is the single source). It imports only
``pulumi``, ``pulumi_azure_native`` and the standard library, and refers to its own modules
relatively, so it works under either name.
"""

from __future__ import annotations

from .cluster import TrainingCluster, TrainingClusterArgs
from .cost_guard import CostGuard, CostGuardArgs
from .naming import name_suffix
from .serving import (
    ContainerAppServing,
    ContainerAppServingArgs,
    OnlineEndpointServing,
    OnlineEndpointServingArgs,
)
from .ssh_key import (
    MissingSshKeyError,
    missing_key_marker,
    read_ssh_public_key,
    ssh_public_key_for_program,
)
from .tags import REQUIRED_TAG_KEYS, standard_tags
from .workspace import MlWorkspace, MlWorkspaceArgs
from .workstation import GpuWorkstation, GpuWorkstationArgs

__all__ = [
    "REQUIRED_TAG_KEYS",
    "ContainerAppServing",
    "ContainerAppServingArgs",
    "CostGuard",
    "CostGuardArgs",
    "GpuWorkstation",
    "GpuWorkstationArgs",
    "MissingSshKeyError",
    "MlWorkspace",
    "MlWorkspaceArgs",
    "OnlineEndpointServing",
    "OnlineEndpointServingArgs",
    "TrainingCluster",
    "TrainingClusterArgs",
    "missing_key_marker",
    "name_suffix",
    "read_ssh_public_key",
    "ssh_public_key_for_program",
    "standard_tags",
]

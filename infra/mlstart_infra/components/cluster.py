"""An Azure ML training cluster that costs nothing while idle: it scales down to zero nodes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import machinelearningservices as ml

from .catalog import ML_COMPUTE
from .naming import name_problem

#: Longest idle time before nodes are released that the cost policy accepts.
MAX_IDLE_MINUTES = 15


@dataclass
class TrainingClusterArgs:
    """What the training cluster needs.

    Attributes:
        resource_group_name: The workspace's resource group.
        location: The Azure region.
        workspace_name: The Azure ML workspace the cluster belongs to.
        compute_name: The cluster's name in the workspace (Azure's rule for compute names:
            3-24 letters, digits and hyphens starting with a letter; see naming.RULES).
        vm_size: The node size, e.g. ``Standard_NC4as_T4_v3``.
        max_nodes: The most nodes that run at once.
        idle_minutes: Idle time before a node is released (1-15).
        low_priority: Use preemptible low-priority nodes (cheaper; jobs may be evicted).
        tags: Tags for the cluster.
    """

    resource_group_name: pulumi.Input[str]
    location: str
    workspace_name: pulumi.Input[str]
    compute_name: str
    vm_size: str
    max_nodes: int = 2
    idle_minutes: int = 2
    low_priority: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        """Reject a cluster that would not scale to zero promptly.

        Raises:
            ValueError: With one line that says what to change.
        """
        problem = name_problem(ML_COMPUTE, self.compute_name)
        if problem:
            raise ValueError(f"cluster name: {problem}")
        if self.max_nodes < 1:
            raise ValueError("the cluster needs at least 1 node at most (max_nodes >= 1)")
        if not 1 <= self.idle_minutes <= MAX_IDLE_MINUTES:
            raise ValueError(f"idle scale-down must be 1-{MAX_IDLE_MINUTES} minutes")


class TrainingCluster(pulumi.ComponentResource):
    """An AmlCompute cluster: 0 to N nodes, no public IPs, no SSH, identity-based auth."""

    compute: ml.Compute

    def __init__(
        self, name: str, args: TrainingClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Create the cluster in the workspace."""
        super().__init__("mlstart:azure:TrainingCluster", name, None, opts)
        args.validate()
        self.compute = ml.Compute(
            f"{name}-compute",
            compute_name=args.compute_name,
            workspace_name=args.workspace_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            identity=ml.ManagedServiceIdentityArgs(type="SystemAssigned"),
            properties=ml.AmlComputeArgs(
                compute_type="AmlCompute",
                disable_local_auth=True,
                description="Training cluster; scales to zero when idle",
                properties=ml.AmlComputePropertiesArgs(
                    vm_size=args.vm_size,
                    vm_priority="LowPriority" if args.low_priority else "Dedicated",
                    os_type="Linux",
                    # The SDK defaults to a public IP per node unless told otherwise.
                    enable_node_public_ip=False,
                    remote_login_port_public_access="Disabled",
                    scale_settings=ml.ScaleSettingsArgs(
                        min_node_count=0,
                        max_node_count=args.max_nodes,
                        node_idle_time_before_scale_down=f"PT{args.idle_minutes}M",
                    ),
                ),
            ),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"compute_name": self.compute.name, "compute_id": self.compute.id})

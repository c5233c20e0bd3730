"""An Azure ML compute instance as the workstation: Azure itself stops it, daily and when idle.

The second workstation kind (``workstationKind: compute-instance``), beside the VM of
``workstation.py``. Azure ML manages the machine (image, GPU drivers, Jupyter, VS Code):
there is no network, SSH key or shutdown schedule resource to own, only the instance with

- a daily Stop schedule at the shutdown time, in the schedule's Windows time zone, and
  ``idleTimeBeforeShutdown`` (ISO 8601; Azure accepts 15 minutes to 3 days):
  https://learn.microsoft.com/en-us/azure/machine-learning/how-to-create-compute-instance#configure-idle-shutdown
  and #schedule-automatic-start-and-stop;
- no public IP: the workspace's managed virtual network holds the instance, so no subnet
  is given (https://learn.microsoft.com/en-us/azure/machine-learning/how-to-managed-network-compute);
- SSH closed (Azure's default, set explicitly; it cannot be changed after creation), local
  authentication disabled and applications (Jupyter, VS Code) personal, not shared with the
  workspace's other users;
- a system-assigned identity. Microsoft: an instance with a managed identity "won't shut
  down due to inactivity unless the managed identity has contributor access to the Azure
  Machine Learning workspace" (how-to-create-compute-instance#assign-managed-identity), so
  with idle shutdown on, the identity gets Contributor on the workspace, nowhere wider.

An instance has one user. Unless told otherwise Azure gives it to its creator, the identity
that runs ``pulumi up`` ("only the creator of a specific compute instance, or the user
assigned if it was created on their behalf, is allowed to access Jupyter, JupyterLab":
https://learn.microsoft.com/en-us/azure/machine-learning/how-to-manage-compute-instance);
when CI deploys, name the person with ``assigned_user_object_id`` ("create on behalf of").
Deleting it needs no stop first (the same page lists start, stop, restart and delete as
independent actions): ``pulumi destroy`` removes it whether it runs or not.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import authorization
from pulumi_azure_native import machinelearningservices as ml

from .catalog import ML_COMPUTE
from .naming import name_problem
from .workstation import schedule_time

#: Azure's bounds on ``idleTimeBeforeShutdown``: "Minimum is 15 min, maximum is 3 days"
#: (REST API, ComputeInstanceProperties:
#: https://learn.microsoft.com/en-us/rest/api/azureml/compute/create-or-update).
MIN_IDLE_MINUTES = 15
MAX_IDLE_MINUTES = 3 * 24 * 60
#: The built-in Contributor role's id
#: (https://learn.microsoft.com/en-us/azure/role-based-access-control/built-in-roles).
CONTRIBUTOR_ROLE = "b24988ac-6180-42a0-ab88-20f7382dd24c"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


@dataclass
class ComputeInstanceWorkstationArgs:
    """What the compute instance workstation needs.

    Attributes:
        resource_group_name: The workspace's resource group.
        location: The Azure region (the workspace's: a managed network keeps computes there).
        workspace_name: The Azure ML workspace the instance belongs to.
        workspace_id: The workspace's resource id (scope of the identity's role).
        compute_name: The instance's name (Azure's compute name rule, unique in the region).
        vm_size: The VM size, e.g. ``Standard_NC4as_T4_v3``.
        shutdown_time: Daily stop time, ``HH:MM`` on a 24-hour clock.
        time_zone: Windows time-zone id of the stop schedule, e.g. ``W. Europe Standard Time``.
        idle_shutdown_minutes: Idle minutes before Azure stops it: 0 (off) or 15-4320.
        assigned_user_object_id: Entra ID object id of the person it is for; None gives it
            to the identity that creates it.
        tags: Tags for the instance.
    """

    resource_group_name: pulumi.Input[str]
    location: str
    workspace_name: pulumi.Input[str]
    workspace_id: pulumi.Input[str]
    compute_name: str
    vm_size: str
    shutdown_time: str
    time_zone: str
    idle_shutdown_minutes: int
    assigned_user_object_id: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        """Reject settings Azure would refuse, or that would leave the instance running.

        Raises:
            ValueError: With one line that says what to change.
        """
        problem = name_problem(ML_COMPUTE, self.compute_name)
        if problem:
            raise ValueError(f"compute instance name: {problem}")
        if not self.vm_size.strip():
            raise ValueError("the compute instance needs a VM size, e.g. Standard_NC4as_T4_v3")
        schedule_time(self.shutdown_time)  # one line for a time that is not HH:MM
        if not self.time_zone.strip():
            raise ValueError("the stop schedule needs a Windows time-zone id, e.g. UTC")
        minutes = self.idle_shutdown_minutes
        if minutes != 0 and not MIN_IDLE_MINUTES <= minutes <= MAX_IDLE_MINUTES:
            raise ValueError(
                f"idle shutdown of {minutes} minutes: use 0 (off) or {MIN_IDLE_MINUTES}-"
                f"{MAX_IDLE_MINUTES} (Azure accepts 15 minutes to 3 days)"
            )
        user = self.assigned_user_object_id
        if user is not None and not _GUID.match(user):
            raise ValueError(f"assigned user {user!r} must be an Entra ID object id (a GUID)")


def idle_duration(minutes: int) -> str | None:
    """``60`` -> ``PT60M``, the ISO 8601 duration ``idleTimeBeforeShutdown`` takes (0: None)."""
    return f"PT{minutes}M" if minutes else None


class ComputeInstanceWorkstation(pulumi.ComponentResource):
    """A compute instance with no public IP and no SSH, stopped daily and when idle."""

    compute: ml.Compute
    role_assignment: authorization.RoleAssignment | None
    connect: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: ComputeInstanceWorkstationArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Create the instance and, with idle shutdown on, its identity's workspace role."""
        super().__init__("mlstart:azure:ComputeInstanceWorkstation", name, None, opts)
        args.validate()
        child = pulumi.ResourceOptions(parent=self)
        client = authorization.get_client_config_output()
        stop = schedule_time(args.shutdown_time)
        personal = None
        if args.assigned_user_object_id:
            personal = ml.PersonalComputeInstanceSettingsArgs(
                assigned_user=ml.AssignedUserArgs(
                    object_id=args.assigned_user_object_id, tenant_id=client.tenant_id
                )
            )
        idle = idle_duration(args.idle_shutdown_minutes)
        self.compute = ml.Compute(
            f"{name}-compute",
            compute_name=args.compute_name,
            workspace_name=args.workspace_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            identity=ml.ManagedServiceIdentityArgs(type="SystemAssigned"),
            properties=ml.ComputeInstanceArgs(
                compute_type="ComputeInstance",
                disable_local_auth=True,
                description=(
                    f"Workstation; stopped daily at {args.shutdown_time} ({args.time_zone})"
                    + (f" and after {args.idle_shutdown_minutes} idle minutes" if idle else "")
                ),
                properties=ml.ComputeInstancePropertiesArgs(
                    vm_size=args.vm_size,
                    # The SDK's default is Shared: "any workspace user can access applications
                    # on this instance"; Personal keeps Jupyter and VS Code to its one user
                    # (applicationSharingPolicy in the REST API reference cited above).
                    application_sharing_policy="Personal",
                    # The SDK leaves it unset, and Azure's default gives the node a public IP.
                    enable_node_public_ip=False,
                    ssh_settings=ml.ComputeInstanceSshSettingsArgs(ssh_public_access="Disabled"),
                    idle_time_before_shutdown=idle,
                    schedules=ml.ComputeSchedulesArgs(
                        compute_start_stop=[
                            ml.ComputeStartStopScheduleArgs(
                                action="Stop",
                                trigger_type="Recurrence",
                                status="Enabled",
                                recurrence=ml.RecurrenceArgs(
                                    frequency="Day",
                                    interval=1,
                                    time_zone=args.time_zone,
                                    schedule=ml.ComputeRecurrenceScheduleArgs(
                                        hours=[int(stop[:2])], minutes=[int(stop[2:])]
                                    ),
                                ),
                            )
                        ]
                    ),
                    personal_compute_instance_settings=personal,
                ),
            ),
            tags=args.tags,
            opts=child,
        )
        self.role_assignment = None
        if idle:
            principal_id = self.compute.identity.apply(
                lambda identity: identity.principal_id if identity else ""
            )
            self.role_assignment = authorization.RoleAssignment(
                f"{name}-workspace-contributor",
                # A stable GUID per workspace (its id carries the stack's suffix) and instance.
                role_assignment_name=pulumi.Output.from_input(args.workspace_id).apply(
                    lambda workspace: str(
                        uuid.uuid5(
                            uuid.NAMESPACE_URL, f"{workspace}/{args.compute_name}/contributor"
                        )
                    )
                ),
                principal_id=principal_id,
                principal_type="ServicePrincipal",
                role_definition_id=client.subscription_id.apply(
                    lambda sub: (
                        f"/subscriptions/{sub}/providers/Microsoft.Authorization/"
                        f"roleDefinitions/{CONTRIBUTOR_ROLE}"
                    )
                ),
                scope=args.workspace_id,
                opts=child,
            )
        self.connect = self.compute.name.apply(
            lambda compute: (
                f"open Azure ML studio (https://ml.azure.com), Compute > Compute instances > "
                f"{compute}: JupyterLab, VS Code or a terminal in the browser (SSH is off)"
            )
        )
        self.register_outputs({"compute_name": self.compute.name, "compute_id": self.compute.id})

"""A GPU workstation that turns itself off every evening, and when it sits idle.

Network (no public IP by default), a Linux VM that accepts SSH keys only, the NVIDIA driver
extension, a DevTest Labs auto-shutdown schedule that sends a notice before it stops, and
(unless turned off) an idle-shutdown agent installed by cloud-init that deallocates the VM
after N idle minutes with the VM's own identity, which a custom role lets read and
deallocate this VM and nothing else (``idle_shutdown.py``).

Reaching it: Azure Bastion's Developer SKU (free, no public IP on the VM, no port open to
the internet; SSH in the browser from the VM's *Connect* page, one session at a time:
https://learn.microsoft.com/en-us/azure/bastion/quickstart-developer-sku). Its outbound
traffic (driver download, pip) leaves through a NAT gateway: Azure retired default
outbound access for new virtual networks on 2025-09-30, so a subnet needs an explicit
outbound method (https://learn.microsoft.com/en-us/azure/virtual-network/ip-services/default-outbound-access).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_azure_native import authorization, compute, devtestlab, network

from .idle_shutdown import (
    CUSTOM_DATA_PATH,
    OPT_OUT_TAGS,
    ROLE_ACTIONS,
    IdleShutdown,
    resource_group_id,
    role_definition_id,
    role_guid,
    role_name,
)
from .naming import ProjectNames

#: Ubuntu 22.04 LTS (Gen2): supported by the NVIDIA GPU driver extension for Linux.
UBUNTU_2204 = {
    "publisher": "Canonical",
    "offer": "0001-com-ubuntu-server-jammy",
    "sku": "22_04-lts-gen2",
    "version": "latest",
}
_TIME = re.compile(r"^([01][0-9]|2[0-3]):?([0-5][0-9])$")
_OPEN_SOURCES = {"*", "0.0.0.0/0", "::/0", "internet", "any"}


@dataclass
class GpuWorkstationArgs:
    """What the GPU workstation needs.

    Attributes:
        resource_group_name: The resource group to create everything in.
        location: The Azure region, e.g. ``westeurope``.
        names: The project's Azure names; the VM's schedule is ``shutdown-computevm-<vm>``.
        vm_size: The VM size, e.g. ``Standard_NC4as_T4_v3``.
        ssh_public_key: The OpenSSH public key text (password login is always disabled).
        shutdown_time: Daily shutdown time, ``HH:MM`` on a 24-hour clock.
        time_zone: Windows time-zone id of the schedule, e.g. ``W. Europe Standard Time``.
        notification_email: Who is told before the shutdown (optional).
        notification_webhook_url: A webhook called before the shutdown (optional).
        notice_minutes: How long before the shutdown the notice goes out (15-120).
        public_ip: Give the VM a public IP; then SSH is allowed only from ``ssh_allowed_cidr``.
        bastion: Create a Bastion host (Developer SKU, free) to reach the VM without a
            public IP.
        ssh_allowed_cidr: The only source range allowed to reach port 22 when ``public_ip``.
        admin_username: The Linux user that owns the SSH key.
        os_disk_size_gb: Size of the managed OS disk.
        os_disk_type: Storage type of the managed OS disk.
        address_space: The virtual network's address range.
        subnet_prefix: The workstation subnet's address range.
        idle_shutdown: When the idle-shutdown agent deallocates the VM; None turns it off
            (the VM is then tagged ``idle-shutdown: off``, the explicit opt-out).
        tags: Tags for every resource.
    """

    resource_group_name: pulumi.Input[str]
    location: str
    names: ProjectNames
    vm_size: str
    ssh_public_key: pulumi.Input[str]
    shutdown_time: str = "19:00"
    time_zone: str = "UTC"
    notification_email: str | None = None
    notification_webhook_url: str | None = None
    notice_minutes: int = 30
    public_ip: bool = False
    ssh_allowed_cidr: str | None = None
    bastion: bool = True
    admin_username: str = "azureuser"
    os_disk_size_gb: int = 128
    os_disk_type: str = "Premium_LRS"
    address_space: str = "10.42.0.0/16"
    subnet_prefix: str = "10.42.1.0/24"
    idle_shutdown: IdleShutdown | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        """Reject settings Azure would accept but the cost and security rules do not.

        Raises:
            ValueError: With one line that says what to change.
        """
        if not _TIME.match(self.shutdown_time):
            raise ValueError(f"shutdown time {self.shutdown_time!r} must be HH:MM, e.g. 19:00")
        if not 15 <= self.notice_minutes <= 120:
            raise ValueError("the shutdown notice must be between 15 and 120 minutes")
        if self.public_ip:
            cidr = (self.ssh_allowed_cidr or "").strip()
            if not cidr or cidr.lower() in _OPEN_SOURCES:
                raise ValueError("a public IP needs ssh_allowed_cidr: the one range allowed SSH")
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as error:
                raise ValueError(f"ssh_allowed_cidr {cidr!r} is not a CIDR range") from error
        if self.idle_shutdown is not None:
            self.idle_shutdown.validate()


def schedule_time(hh_mm: str) -> str:
    """Turn ``19:00`` into the ``1900`` a DevTest Labs schedule expects."""
    match = _TIME.match(hh_mm)
    if not match:
        raise ValueError(f"time {hh_mm!r} must be HH:MM")
    return f"{match.group(1)}{match.group(2)}"


class GpuWorkstation(pulumi.ComponentResource):
    """A Linux GPU VM reachable only by SSH key, stopped every day by a schedule."""

    vm: compute.VirtualMachine
    schedule: devtestlab.GlobalSchedule
    idle_role: authorization.RoleDefinition | None
    private_ip: pulumi.Output[str]
    public_ip_address: pulumi.Output[str] | None
    connect: pulumi.Output[str]
    bastion: network.BastionHost | None

    def __init__(
        self, name: str, args: GpuWorkstationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Create the network, Bastion, NAT gateway, VM, driver extension, schedule, agent."""
        super().__init__("mlstart:azure:GpuWorkstation", name, None, opts)
        args.validate()
        child = pulumi.ResourceOptions(parent=self)
        rg, loc, tags, names = args.resource_group_name, args.location, args.tags, args.names
        vm_name = names.vm

        vnet = network.VirtualNetwork(
            f"{name}-vnet",
            virtual_network_name=names.vnet,
            resource_group_name=rg,
            location=loc,
            address_space=network.AddressSpaceArgs(address_prefixes=[args.address_space]),
            tags=tags,
            opts=child,
        )
        nsg = network.NetworkSecurityGroup(
            f"{name}-nsg",
            network_security_group_name=names.nsg,
            resource_group_name=rg,
            location=loc,
            security_rules=self._security_rules(args),
            tags=tags,
            opts=child,
        )
        nat_ip = _static_public_ip(f"{name}-nat-ip", names.nat_public_ip, args, child)
        nat = network.NatGateway(
            f"{name}-nat",
            nat_gateway_name=names.nat_gateway,
            resource_group_name=rg,
            location=loc,
            sku=network.NatGatewaySkuArgs(name="Standard"),
            public_ip_addresses=[network.SubResourceArgs(id=nat_ip.id)],
            idle_timeout_in_minutes=4,
            tags=tags,
            opts=child,
        )
        subnet = network.Subnet(
            f"{name}-subnet",
            subnet_name=names.subnet,
            resource_group_name=rg,
            virtual_network_name=vnet.name,
            address_prefix=args.subnet_prefix,
            network_security_group=network.NetworkSecurityGroupArgs(id=nsg.id),
            # A private subnet: outbound internet only through the NAT gateway.
            default_outbound_access=False,
            nat_gateway=network.SubResourceArgs(id=nat.id),
            opts=child,
        )
        self.bastion = None
        if args.bastion:
            # The Developer SKU needs no AzureBastionSubnet and no public IP of its own.
            self.bastion = network.BastionHost(
                f"{name}-bastion",
                bastion_host_name=names.bastion,
                resource_group_name=rg,
                location=loc,
                sku=network.SkuArgs(name="Developer"),
                virtual_network=network.SubResourceArgs(id=vnet.id),
                tags=tags,
                opts=child,
            )
        public_ip = None
        if args.public_ip:
            public_ip = _static_public_ip(f"{name}-pip", names.public_ip, args, child)
        nic = network.NetworkInterface(
            f"{name}-nic",
            network_interface_name=names.nic,
            resource_group_name=rg,
            location=loc,
            network_security_group=network.NetworkSecurityGroupArgs(id=nsg.id),
            ip_configurations=[
                network.NetworkInterfaceIPConfigurationArgs(
                    name="ipconfig1",
                    subnet=network.SubnetArgs(id=subnet.id),
                    private_ip_allocation_method="Dynamic",
                    public_ip_address=(
                        network.PublicIPAddressArgs(id=public_ip.id) if public_ip else None
                    ),
                )
            ],
            tags=tags,
            opts=child,
        )
        idle = args.idle_shutdown
        self.vm = compute.VirtualMachine(
            f"{name}-vm",
            vm_name=vm_name,
            resource_group_name=rg,
            location=loc,
            hardware_profile=compute.HardwareProfileArgs(vm_size=args.vm_size),
            identity=compute.VirtualMachineIdentityArgs(
                type=compute.ResourceIdentityType.SYSTEM_ASSIGNED
            ),
            os_profile=compute.OSProfileArgs(
                computer_name=vm_name[:64],
                admin_username=args.admin_username,
                custom_data=idle.custom_data() if idle else None,
                linux_configuration=compute.LinuxConfigurationArgs(
                    disable_password_authentication=True,
                    ssh=compute.SshConfigurationArgs(
                        public_keys=[
                            compute.SshPublicKeyArgs(
                                path=f"/home/{args.admin_username}/.ssh/authorized_keys",
                                key_data=args.ssh_public_key,
                            )
                        ]
                    ),
                ),
            ),
            storage_profile=compute.StorageProfileArgs(
                image_reference=compute.ImageReferenceArgs(**UBUNTU_2204),
                os_disk=compute.OSDiskArgs(
                    name=names.os_disk,
                    create_option="FromImage",
                    caching=compute.CachingTypes.READ_WRITE,
                    disk_size_gb=args.os_disk_size_gb,
                    delete_option="Delete",
                    managed_disk=compute.ManagedDiskParametersArgs(
                        storage_account_type=args.os_disk_type
                    ),
                ),
            ),
            network_profile=compute.NetworkProfileArgs(
                network_interfaces=[compute.NetworkInterfaceReferenceArgs(id=nic.id, primary=True)]
            ),
            # The agent's thresholds (or the opt-out) are tags: they change in place.
            tags={**tags, **(idle.tags() if idle else OPT_OUT_TAGS)},
            # Azure refuses to change custom data after the VM is created: a newer agent
            # reaches new VMs only, instead of failing every later `pulumi up`.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=[CUSTOM_DATA_PATH]),
        )
        self.idle_role = self._idle_role(name) if idle else None
        compute.VirtualMachineExtension(
            f"{name}-nvidia-driver",
            vm_extension_name="NvidiaGpuDriverLinux",
            vm_name=self.vm.name,
            resource_group_name=rg,
            location=loc,
            publisher="Microsoft.HpcCompute",
            type="NvidiaGpuDriverLinux",
            type_handler_version="1.6",
            auto_upgrade_minor_version=True,
            tags=tags,
            opts=child,
        )
        notify = bool(args.notification_email or args.notification_webhook_url)
        self.schedule = devtestlab.GlobalSchedule(
            f"{name}-shutdown",
            # Azure finds a VM's auto-shutdown schedule by this exact name.
            name=names.schedule,
            resource_group_name=rg,
            location=loc,
            status="Enabled",
            task_type="ComputeVmShutdownTask",
            daily_recurrence=devtestlab.DayDetailsArgs(time=schedule_time(args.shutdown_time)),
            time_zone_id=args.time_zone,
            target_resource_id=self.vm.id,
            notification_settings=devtestlab.NotificationSettingsArgs(
                status="Enabled" if notify else "Disabled",
                time_in_minutes=args.notice_minutes,
                email_recipient=args.notification_email,
                webhook_url=args.notification_webhook_url,
                notification_locale="en",
            ),
            tags=tags,
            opts=child,
        )
        self.private_ip = nic.ip_configurations.apply(_first_private_ip)
        self.public_ip_address = (
            public_ip.ip_address.apply(lambda ip: ip or "") if public_ip else None
        )
        self.connect = self._connect_hint(args, public_ip)
        self.register_outputs(
            {
                "vm_id": self.vm.id,
                "vm_name": self.vm.name,
                "schedule_id": self.schedule.id,
                "idle_role_id": self.idle_role.id if self.idle_role else None,
                "private_ip": self.private_ip,
                "public_ip": self.public_ip_address,
            }
        )

    def _idle_role(self, name: str) -> authorization.RoleDefinition:
        """A custom role that can read and deallocate this VM only, given to its identity.

        The role is defined in the VM's resource group, the narrowest scope a custom role
        can be made assignable at ("management group, subscriptions, or resource groups":
        https://learn.microsoft.com/en-us/azure/role-based-access-control/role-definitions#assignablescopes);
        the assignment's scope is the VM itself, so the identity can stop no other VM.
        """
        vm_id = self.vm.id
        group_id = vm_id.apply(resource_group_id)
        definition = authorization.RoleDefinition(
            f"{name}-idle-role",
            role_definition_id=vm_id.apply(lambda vm: role_guid(vm, "role")),
            role_name=vm_id.apply(role_name),
            description=(
                "Lets the mlstart idle-shutdown agent on one VM read and deallocate that VM"
            ),
            role_type="CustomRole",
            permissions=[
                authorization.PermissionArgs(
                    actions=list(ROLE_ACTIONS), not_actions=[], data_actions=[], not_data_actions=[]
                )
            ],
            assignable_scopes=[group_id],
            scope=group_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        authorization.RoleAssignment(
            f"{name}-idle-deallocate",
            role_assignment_name=vm_id.apply(lambda vm: role_guid(vm, "assignment")),
            principal_id=self.vm.identity.apply(
                lambda identity: identity.principal_id if identity else ""
            ),
            principal_type="ServicePrincipal",
            # The GUID the definition is created with (its name), in the subscription form.
            role_definition_id=vm_id.apply(
                lambda vm: role_definition_id(vm, role_guid(vm, "role"))
            ),
            scope=vm_id,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[definition]),
        )
        return definition

    def _connect_hint(
        self, args: GpuWorkstationArgs, public_ip: network.PublicIPAddress | None
    ) -> pulumi.Output[str]:
        """How to reach the VM: SSH to the allowed public IP, else Bastion in the portal."""
        user = args.admin_username
        if public_ip is not None:
            return public_ip.ip_address.apply(lambda ip: f"ssh {user}@{ip or '<public ip>'}")
        if self.bastion is None:
            return pulumi.Output.from_input(
                "no public IP and no Bastion: connect through your own VPN or peering"
            )
        return self.vm.id.apply(
            lambda vm_id: (
                f"open https://portal.azure.com/#resource{vm_id}/bastionHost and sign in as "
                f"{user} with your SSH private key (Azure Bastion Developer, in the browser)"
            )
        )

    @staticmethod
    def _security_rules(args: GpuWorkstationArgs) -> list[network.SecurityRuleArgs]:
        """Inbound SSH only from the allowed range, and only when the VM has a public IP."""
        rules = [
            network.SecurityRuleArgs(
                name="deny-internet-inbound",
                priority=4000,
                direction="Inbound",
                access="Deny",
                protocol="*",
                source_address_prefix="Internet",
                source_port_range="*",
                destination_address_prefix="*",
                destination_port_range="*",
            )
        ]
        if args.public_ip and args.ssh_allowed_cidr:
            rules.insert(
                0,
                network.SecurityRuleArgs(
                    name="allow-ssh-from-allowed-range",
                    priority=100,
                    direction="Inbound",
                    access="Allow",
                    protocol="Tcp",
                    source_address_prefix=args.ssh_allowed_cidr,
                    source_port_range="*",
                    destination_address_prefix="*",
                    destination_port_range="22",
                ),
            )
        return rules


def _static_public_ip(
    logical_name: str, azure_name: str, args: GpuWorkstationArgs, opts: pulumi.ResourceOptions
) -> network.PublicIPAddress:
    """A Standard, static public IP address in the workstation's group and region."""
    return network.PublicIPAddress(
        logical_name,
        public_ip_address_name=azure_name,
        resource_group_name=args.resource_group_name,
        location=args.location,
        sku=network.PublicIPAddressSkuArgs(name="Standard"),
        public_ip_allocation_method="Static",
        tags=args.tags,
        opts=opts,
    )


def _first_private_ip(configs: Sequence[Any] | None) -> str:
    for config in configs or []:
        if config.private_ip_address:
            return str(config.private_ip_address)
    return ""

"""Run this Pulumi program under Pulumi's unit-test mocks and record what it would create.

No cloud account and no Pulumi CLI are needed: every resource registration is answered
by :class:`RecordingMocks` with its own inputs plus plausible Azure outputs (ids, names,
identities), and :class:`RecordingMonitor` records each resource's type, names, inputs,
parent and ``protect`` flag. The project's tests and ``mlstart plan`` both use this.
"""

from __future__ import annotations

import logging
import os
import runpy
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings

try:
    from mlstart_infra.components.catalog import NAME_INPUTS
except ImportError:  # the copy in a generated project's infra/tests
    from components.catalog import NAME_INPUTS  # type: ignore[import-not-found,no-redef]

#: Ids the mocks answer for the signed-in Azure identity (clearly not real ones).
MOCK_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
MOCK_TENANT_ID = "00000000-0000-0000-0000-00000000000a"
MOCK_PRINCIPAL_ID = "00000000-0000-0000-0000-00000000000b"
#: Ids the mocks answer for a user-assigned identity (its app's client id and its principal).
MOCK_IDENTITY_CLIENT_ID = "00000000-0000-0000-0000-00000000000c"
MOCK_IDENTITY_PRINCIPAL_ID = "00000000-0000-0000-0000-00000000000d"


@dataclass(frozen=True)
class RecordedResource:
    """One resource the program registered.

    Attributes:
        urn: The Pulumi URN.
        type: The type token, e.g. ``azure-native:compute:VirtualMachine``.
        name: The logical (Pulumi) name.
        custom: False for component resources, True for cloud resources.
        inputs: The inputs as the provider would receive them (camelCase keys).
        parent: The parent's URN (None for the stack itself).
        protect: Whether ``protect=True`` was set.
        id: The mocked resource id (an ARM-like path).
        ignore_changes: Input paths a later ``pulumi up`` leaves as they are in Azure.
        dependencies: URNs of the resources this one depends on (explicitly or through
            its inputs), as the engine would record them.
    """

    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    parent: str | None
    protect: bool
    id: str | None
    ignore_changes: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()


@dataclass
class ProgramRun:
    """What running a program under the mocks produced.

    Attributes:
        resources: Every registered resource, the stack and providers included.
        warnings: Warnings the program logged (``pulumi.log.warn``).
        errors: Errors the program logged (``pulumi.log.error``).
    """

    resources: list[RecordedResource] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def azure_name(type_token: str, logical_name: str, inputs: Mapping[str, Any]) -> str:
    """The Azure name a resource would get: its name input, else its logical name."""
    key = NAME_INPUTS.get(type_token, "name")
    value = inputs.get(key)
    return str(value) if isinstance(value, str) and value else logical_name


def _with_identity(identity: Any) -> Any:
    if isinstance(identity, dict) and "SystemAssigned" in str(identity.get("type", "")):
        return {**identity, "principalId": MOCK_PRINCIPAL_ID, "tenantId": MOCK_TENANT_ID}
    return identity


class RecordingMocks(pulumi.runtime.Mocks):
    """Answer every resource with its inputs plus the outputs programs commonly read."""

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[Any, Any]]:
        """Return a mock id and the resource's state."""
        inputs = dict(args.inputs)
        if not args.custom or args.typ.startswith("pulumi:"):
            return f"{args.name}_id", inputs
        name = azure_name(args.typ, args.name, inputs)
        _, module, kind = ([*args.typ.split(":"), "", ""])[:3]
        group = inputs.get("resourceGroupName") or "mock-group"
        if args.typ == "azure-native:resources:ResourceGroup":
            resource_id = f"/subscriptions/{MOCK_SUBSCRIPTION_ID}/resourceGroups/{name}"
        else:
            resource_id = (
                f"/subscriptions/{MOCK_SUBSCRIPTION_ID}/resourceGroups/{group}"
                f"/providers/mock.{module}/{kind}/{name}"
            )
        state: dict[str, Any] = {**inputs, "name": name, "id": resource_id}
        if "identity" in inputs:
            state["identity"] = _with_identity(inputs["identity"])
        extra: dict[str, dict[str, Any]] = {
            "azure-native:containerregistry:Registry": {"loginServer": f"{name}.azurecr.io"},
            "azure-native:operationalinsights:Workspace": {"customerId": MOCK_PRINCIPAL_ID},
            "azure-native:app:ContainerApp": {
                "latestRevisionFqdn": f"{name}.mock.azurecontainerapps.io"
            },
            "azure-native:network:PublicIPAddress": {"ipAddress": "203.0.113.10"},
            "azure-native:managedidentity:UserAssignedIdentity": {
                "clientId": MOCK_IDENTITY_CLIENT_ID,
                "principalId": MOCK_IDENTITY_PRINCIPAL_ID,
                "tenantId": MOCK_TENANT_ID,
            },
        }
        state.update(extra.get(args.typ, {}))
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[Any, Any]:  # type: ignore[override]
        """Answer the invokes the components use; others get an empty result."""
        if args.token == "azure-native:authorization:getClientConfig":
            return {
                "clientId": MOCK_PRINCIPAL_ID,
                "objectId": MOCK_PRINCIPAL_ID,
                "subscriptionId": MOCK_SUBSCRIPTION_ID,
                "tenantId": MOCK_TENANT_ID,
            }
        if args.token == "azure-native:operationalinsights:getSharedKeys":
            return {"primarySharedKey": "mock-key", "secondarySharedKey": "mock-key"}
        return {}


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """Pulumi's mock monitor, also recording each registration's parent and ``protect``."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.records: list[RecordedResource] = []

    def RegisterResource(self, request: Any) -> Any:
        """Register as the mock monitor does, then record the request."""
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        self.records.append(
            RecordedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                inputs=dict(rpc.deserialize_properties(request.object)),
                parent=request.parent or None,
                protect=bool(request.protect),
                id=response.id or None,
                ignore_changes=tuple(request.ignoreChanges),
                dependencies=tuple(request.dependencies),
            )
        )
        return response


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.warnings: list[str] = []
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        kept = self.errors if record.levelno >= logging.ERROR else self.warnings
        kept.append(record.getMessage())


def run_program(
    program: Path | str,
    *,
    project: str,
    stack: str,
    config: Mapping[str, str],
    secret_keys: list[str] | None = None,
) -> ProgramRun:
    """Run a Pulumi program's ``__main__.py`` under recording mocks, as a preview would.

    Args:
        program: The program's folder (holding ``__main__.py``) or the file itself.
        project: The Pulumi project name.
        stack: The stack name.
        config: Full config keys (``project:key``, ``azure-native:location``) to strings.
        secret_keys: Config keys that are secret.

    Returns:
        Every registered resource and the warnings the program logged.

    Raises:
        Exception: Whatever the program raises.
    """
    path = Path(program).resolve()
    main = path / "__main__.py" if path.is_dir() else path
    folder = main.parent
    mocks = RecordingMocks()
    monitor = RecordingMonitor(mocks)
    handler = _Collect()
    logger = logging.getLogger(f"{__name__}.run")
    logger.propagate = False
    logger.addHandler(handler)
    pulumi_settings.ROOT.set(None)  # a fresh stack resource for every run
    pulumi.runtime.set_all_config(dict(config), secret_keys or [])
    pulumi.runtime.set_mocks(
        mocks, project=project, stack=stack, preview=True, logger=logger, monitor=monitor
    )

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def _run() -> None:
        runpy.run_path(str(main), run_name="__main__")

    try:
        with _program_imports(folder):
            _run()
    finally:
        logger.removeHandler(handler)
    return ProgramRun(list(monitor.records), handler.warnings, handler.errors)


@contextmanager
def _program_imports(folder: Path) -> Iterator[None]:
    """Import the program's own modules from ``folder``, and forget them afterwards.

    Every generated project has a ``components`` package: a second program must not get
    the first one's cached copy, and same-named modules of the caller are put back after.
    """
    local = {p.stem for p in folder.glob("*.py")} | {
        p.parent.name for p in folder.glob("*/__init__.py")
    }
    local.discard("__main__")
    stashed = {
        name: sys.modules.pop(name) for name in list(sys.modules) if name.split(".")[0] in local
    }
    cwd = Path.cwd()
    sys.path.insert(0, str(folder))
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(cwd)
        if str(folder) in sys.path:
            sys.path.remove(str(folder))
        for name in list(sys.modules):
            if name.split(".")[0] in local:
                del sys.modules[name]
        sys.modules.update(stashed)

"""A stand-in for the Pulumi CLI, for tests on machines where the real one cannot be installed.

It is NOT Pulumi: it runs no program and talks to no cloud. It answers the commands that
Pulumi's Automation API and mlstart send, in the output formats Pulumi documents (JSON for
`stack ls/output/history/export --json`, the usual text for `up`/`destroy`), keeps each
stack's state in a folder, and records every invocation so tests can assert on them.

Environment:
    STANDIN_PULUMI_HOME: folder holding the state and ``calls.jsonl`` (required).
    STANDIN_PULUMI_PROGRAM: JSON file ``{"resources": [...], "outputs": {...}}`` describing
        what ``up`` creates. Each resource has ``type`` and ``name`` and may have
        ``protect``, ``custom`` (False for components), ``parent`` (a name),
        ``dependsOn`` (names), ``propertyDependencies`` (input name to names), ``inputs``
        and ``outputs``. The export turns names into URNs the way Pulumi does (parent
        types joined by ``$``), gives every custom resource the default provider, and
        ``destroy --exclude-protected`` keeps protected resources with everything they
        depend on, as Pulumi does.
    STANDIN_PULUMI_FAIL: a command name (``up``, ``destroy``) that should fail.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

VERSION = "v3.272.0"
HOME = Path(os.environ["STANDIN_PULUMI_HOME"])
STACKS = HOME / "stacks"
STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_TYPE = "pulumi:providers:azure-native"
PROVIDER_NAME = "default_3_29_0"
PROVIDER_ID = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def fail(message: str, code: int = 255) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


def option(args: list[str], name: str) -> str | None:
    if name in args:
        return args[args.index(name) + 1]
    for arg in args:
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def project_name() -> str:
    settings = Path.cwd() / "Pulumi.yaml"
    if settings.exists():
        for line in settings.read_text().splitlines():
            if line.startswith("name:"):
                return line.split(":", 1)[1].strip().strip("'\"")
    return "project"


def current_stack(args: list[str]) -> str:
    name = option(args, "--stack") or option(args, "-s")
    if name is None and (HOME / "current").exists():
        name = (HOME / "current").read_text().strip()
    if name is None:
        fail("no stack selected; please use `pulumi stack select`")
    assert name is not None
    return name


def load(name: str) -> dict[str, Any]:
    path = STACKS / f"{name}.json"
    if not path.exists():
        fail(f"no stack named '{name}' found")
    state: dict[str, Any] = json.loads(path.read_text())
    return state


def save(name: str, state: dict[str, Any]) -> None:
    STACKS.mkdir(parents=True, exist_ok=True)
    (STACKS / f"{name}.json").write_text(json.dumps(state, indent=2))


def urn(stack: str, type_: str, name: str) -> str:
    return f"urn:pulumi:{stack}::{project_name()}::{type_}::{name}"


def stack_config(stack: str) -> dict[str, Any]:
    import yaml

    path = Path.cwd() / f"Pulumi.{stack}.yaml"
    if not path.exists():
        return {}
    content = yaml.safe_load(path.read_text()) or {}
    return dict(content.get("config") or {})


def exported(stack: str, resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The resources as `pulumi stack export` writes them (deployment format v3)."""
    by_name = {r["name"]: r for r in resources}

    def urn_of(name: str) -> str:
        resource = by_name[name]
        chain, parent = [resource["type"]], resource.get("parent")
        while parent:
            chain.insert(0, by_name[parent]["type"])
            parent = by_name[parent].get("parent")
        return urn(stack, "$".join(chain), name)

    stack_urn = urn(stack, STACK_TYPE, f"{project_name()}-{stack}")
    provider_urn = urn(stack, PROVIDER_TYPE, PROVIDER_NAME)
    out = []
    for resource in resources:
        if resource["type"] == STACK_TYPE:
            out.append({"urn": stack_urn, "custom": False, "type": STACK_TYPE, "outputs": {}})
            continue
        if resource["type"] == PROVIDER_TYPE:
            out.append(
                {"urn": provider_urn, "custom": True, "id": PROVIDER_ID, "type": PROVIDER_TYPE,
                 "inputs": {"location": "westeurope"}, "outputs": {"location": "westeurope"},
                 "parent": stack_urn}
            )  # fmt: skip
            continue
        custom = resource.get("custom", True)
        item: dict[str, Any] = {
            "urn": urn_of(resource["name"]),
            "custom": custom,
            "type": resource["type"],
            "protect": resource.get("protect", False),
            "inputs": resource.get("inputs", {}),
            "outputs": resource.get("outputs", {}),
            "parent": urn_of(resource["parent"]) if resource.get("parent") else stack_urn,
            "dependencies": [urn_of(n) for n in resource.get("dependsOn", [])],
            "propertyDependencies": {
                key: [urn_of(n) for n in names]
                for key, names in resource.get("propertyDependencies", {}).items()
            },
        }
        if custom:
            item["id"] = f"/standin/{resource['name']}"
            item["provider"] = f"{provider_urn}::{PROVIDER_ID}"
        if resource.get("created"):  # when `up` created it (ResourceV3's `created`)
            item["created"] = resource["created"]
        out.append(item)
    return out


def kept_by_exclude_protected(stack: str, resources: list[dict[str, Any]]) -> set[str]:
    """Names `destroy --exclude-protected` keeps: protected ones and all they depend on."""
    state = exported(stack, resources)
    by_urn = {item["urn"]: item for item in state}
    names = {item["urn"]: r["name"] for item, r in zip(state, resources, strict=True)}
    kept: set[str] = set()
    pending = [item["urn"] for item in state if item.get("protect")]
    while pending:
        current = pending.pop()
        if current in kept:
            continue
        kept.add(current)
        item = by_urn[current]
        pending += item.get("dependencies", [])
        for urns in item.get("propertyDependencies", {}).values():
            pending += urns
        pending += [item["parent"]] if item.get("parent") else []
        pending += [item["provider"].rsplit("::", 1)[0]] if item.get("provider") else []
    return {names[u] for u in kept}


def cmd_stack(args: list[str]) -> None:
    sub = args[0] if args and not args[0].startswith("-") else "select"
    rest = args[1:] if args and not args[0].startswith("-") else args
    if sub == "ls":
        current = (HOME / "current").read_text().strip() if (HOME / "current").exists() else None
        listing = [
            {
                "name": path.stem,
                "current": path.stem == current,
                "updateInProgress": False,
                "resourceCount": len(json.loads(path.read_text())["resources"]),
                "url": f"file://{HOME}",
            }
            for path in sorted(STACKS.glob("*.json"))
        ]
        print(json.dumps(listing))
    elif sub == "init":
        name = rest[0] if rest and not rest[0].startswith("-") else current_stack(rest)
        if (STACKS / f"{name}.json").exists():
            fail(f"stack '{name}' already exists")
        save(name, {"resources": [], "outputs": {}, "history": []})
        (HOME / "current").write_text(name)
        print(f"Created stack '{name}'")
    elif sub == "select":
        name = current_stack(rest)
        load(name)
        (HOME / "current").write_text(name)
    elif sub == "output":
        state = load(current_stack(rest))
        print(json.dumps(state["outputs"]))
    elif sub == "history":
        state = load(current_stack(rest))
        history = list(reversed(state["history"]))
        size = option(rest, "--page-size")
        if size:
            history = history[: int(size)]
        print(json.dumps(history))
    elif sub == "export":
        name = current_stack(rest)
        state = load(name)
        manifest = {"time": now(), "magic": "standin", "version": VERSION}
        deployment = {"manifest": manifest, "resources": exported(name, state["resources"])}
        print(json.dumps({"version": 3, "deployment": deployment}))
    elif sub == "rm":
        positional = [a for a in rest if not a.startswith("-") and a != option(rest, "--stack")]
        name = positional[0] if positional else current_stack(rest)
        state = load(name)
        if state["resources"] and "--force" not in rest:
            fail(f"'{name}' still has resources; removal rejected")
        (STACKS / f"{name}.json").unlink()
        if "--preserve-config" not in rest:  # as Pulumi does: the config file goes too
            (Path.cwd() / f"Pulumi.{name}.yaml").unlink(missing_ok=True)
        print(f"Stack '{name}' has been removed!")
    else:
        fail(f"stand-in pulumi does not implement `stack {sub}`")


def cmd_config(args: list[str]) -> None:
    name = current_stack(args)
    load(name)
    if "--json" in args:
        config = {
            key: {"value": value if isinstance(value, str) else json.dumps(value), "secret": False}
            for key, value in stack_config(name).items()
        }
        print(json.dumps(config))
    else:
        fail("stand-in pulumi only implements `config --json`")


def record_history(state: dict[str, Any], kind: str, changes: dict[str, int]) -> None:
    state["history"].append(
        {
            "version": len(state["history"]) + 1,
            "kind": kind,
            "startTime": now(),
            "endTime": now(),
            "message": "",
            "environment": {"exec.kind": "auto.local"},
            "config": {},
            "result": "succeeded",
            "resourceChanges": changes,
        }
    )


def cmd_up(args: list[str]) -> None:
    name = current_stack(args)
    state = load(name)
    if os.environ.get("STANDIN_PULUMI_FAIL") == "up":
        print(f"Updating ({name})")
        fail("update failed: the stand-in was told to fail")
    program = json.loads(Path(os.environ["STANDIN_PULUMI_PROGRAM"]).read_text())
    wanted = [
        {"type": STACK_TYPE, "name": f"{project_name()}-{name}"},
        {"type": PROVIDER_TYPE, "name": PROVIDER_NAME},
    ]
    wanted += program["resources"]
    existing = {(r["type"], r["name"]): r for r in state["resources"]}
    for resource in wanted:
        before = existing.get((resource["type"], resource["name"]))
        resource["created"] = (before or {}).get("created") or resource.get("created") or now()
    print(f"Updating ({name})\n")
    print(f"     {'Type':<55} {'Name':<40} Status")
    created = 0
    for resource in wanted:
        key = (resource["type"], resource["name"])
        status = "created" if key not in existing else "same"
        created += key not in existing
        mark = "+" if status == "created" else " "
        print(f" {mark}   {resource['type']:<55} {resource['name']:<40} {status}")
    state["resources"] = wanted
    state["outputs"] = program.get("outputs", {})
    print("\nOutputs:")
    for key, value in state["outputs"].items():
        print(f"    {key}: {json.dumps(value)}")
    print(f"\nResources:\n    + {created} created\n    {len(wanted) - created} unchanged\n")
    print("Duration: 1s")
    record_history(state, "update", {"create": created, "same": len(wanted) - created})
    save(name, state)


def cmd_destroy(args: list[str]) -> None:
    name = current_stack(args)
    state = load(name)
    if os.environ.get("STANDIN_PULUMI_FAIL") == "destroy":
        fail("destroy failed: the stand-in was told to fail")
    keep_protected = "--exclude-protected" in args
    protected = [r for r in state["resources"] if r.get("protect")]
    if protected and not keep_protected:
        fail(
            f"resource {urn(name, protected[0]['type'], protected[0]['name'])} cannot be "
            "deleted because it is protected"
        )
    kept = kept_by_exclude_protected(name, state["resources"]) if keep_protected else set()
    print(f"Destroying ({name})\n")
    deleted = [r for r in state["resources"] if r["name"] not in kept]
    for resource in reversed(deleted):
        if resource["type"] not in (STACK_TYPE, PROVIDER_TYPE):
            print(f" -   {resource['type']:<55} {resource['name']:<40} deleted")
    state["resources"] = [r for r in state["resources"] if r["name"] in kept]
    if not state["resources"]:
        state["outputs"] = {}
    count = len([r for r in deleted if r["type"] not in (STACK_TYPE, PROVIDER_TYPE)])
    print(f"\nResources:\n    - {count} deleted\n\nDuration: 1s")
    record_history(state, "destroy", {"delete": count})
    save(name, state)


def cmd_state(args: list[str]) -> None:
    if args[:1] == ["unprotect"] and "--all" in args:
        name = current_stack(args)
        state = load(name)
        for resource in state["resources"]:
            resource["protect"] = False
        save(name, state)
        print("All resources unprotected")
    else:
        fail("stand-in pulumi only implements `state unprotect --all`")


def main() -> None:
    # Global flags the Automation API adds to every command.
    args = [arg for arg in sys.argv[1:] if arg not in {"--non-interactive", "--skip-preview"}]
    HOME.mkdir(parents=True, exist_ok=True)
    with (HOME / "calls.jsonl").open("a") as log:
        log.write(json.dumps({"args": args, "cwd": os.getcwd()}) + "\n")
    if not args:
        fail("usage: pulumi COMMAND")
    command, rest = args[0], args[1:]
    if command == "version":
        print(VERSION)
    elif command == "whoami":
        print(
            json.dumps({"user": "standin", "url": f"file://{HOME}"})
            if "--json" in rest
            else "standin"
        )
    elif command == "stack":
        cmd_stack(rest)
    elif command == "config":
        cmd_config(rest)
    elif command == "up":
        cmd_up(rest)
    elif command == "destroy":
        cmd_destroy(rest)
    elif command == "state":
        cmd_state(rest)
    else:
        fail(f"stand-in pulumi does not implement `{command}`")


if __name__ == "__main__":
    main()

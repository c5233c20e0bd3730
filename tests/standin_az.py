"""A stand-in for the Azure CLI (`az`), for tests on machines where the real one is absent.

It is NOT the Azure CLI: it talks to no cloud. It answers the few commands mlstart sends,
in the JSON the real CLI prints with ``--output json``, and records every invocation.

Environment:
    STANDIN_AZ_HOME: folder holding ``calls.jsonl`` (required).
    STANDIN_AZ_ACCOUNT: JSON file with what ``az account show`` prints; missing means not
        logged in (the real CLI then exits 1 asking for ``az login``).
    STANDIN_AZ_ASSIGNMENTS: JSON file with the list ``az role assignment list`` prints.
    STANDIN_AZ_LIVE: JSON file with what Azure holds now, by resource id: ``instanceView``
        (``az vm get-instance-view --ids``), ``resource`` (``az resource show --ids``, the
        REST GET body), ``activity`` (``az monitor activity-log list --resource-id``: the
        events, filtered by ``--start-time`` and cut at ``--max-events``, newest first) and
        ``fail`` (an error message every command about it answers with); container apps by
        ``containerapp:<resource group>/<name>``: ``replicas`` (``az containerapp replica
        list``). Unknown ids fail as the real CLI does, with ``(ResourceNotFound)``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def fail(message: str) -> None:
    print(f"ERROR: {message}", file=sys.stderr)
    sys.exit(1)


def option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def live(key: str | None) -> dict:
    path = Path(os.environ.get("STANDIN_AZ_LIVE", "/nonexistent"))
    known = json.loads(path.read_text()) if path.exists() else {}
    entry = known.get(key or "")
    if entry is None:
        fail(f"(ResourceNotFound) The Resource '{key}' was not found.")
    if entry.get("fail"):
        fail(entry["fail"])
    return dict(entry)


def answer_live(args: list[str]) -> None:
    """The commands that read what a resource runs now (see STANDIN_AZ_LIVE)."""
    if args[:2] == ["vm", "get-instance-view"]:
        resource_id = option(args, "--ids")
        print(json.dumps({"id": resource_id, "instanceView": live(resource_id)["instanceView"]}))
    elif args[:2] == ["resource", "show"]:
        if "--api-version" not in args:
            fail("the stand-in expects --api-version for Azure ML resources")
        print(json.dumps(live(option(args, "--ids"))["resource"]))
    elif args[:3] == ["monitor", "activity-log", "list"]:
        start = option(args, "--start-time") or ""
        if not start.endswith("Z"):
            fail("--start-time must be ISO 8601 with an explicit time zone")
        events = [e for e in live(option(args, "--resource-id")).get("activity", [])
                  if e["eventTimestamp"] >= start]  # fmt: skip
        events.sort(key=lambda e: e["eventTimestamp"], reverse=True)
        print(json.dumps(events[: int(option(args, "--max-events") or 50)]))
    elif args[:3] == ["containerapp", "replica", "list"]:
        key = f"containerapp:{option(args, '--resource-group')}/{option(args, '--name')}"
        print(json.dumps(live(key)["replicas"]))
    else:
        fail(f"stand-in az does not implement `az {' '.join(args)}`")


LIVE_COMMANDS = (["vm"], ["resource"], ["monitor"], ["containerapp"])


def main() -> None:
    args = sys.argv[1:]
    home = Path(os.environ["STANDIN_AZ_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    with (home / "calls.jsonl").open("a") as log:
        log.write(json.dumps({"args": args}) + "\n")
    account_file = Path(os.environ.get("STANDIN_AZ_ACCOUNT", "/nonexistent"))
    signed_in = account_file.exists()
    if args[:2] in (["account", "show"], ["role", "assignment"]) and not signed_in:
        fail("Please run 'az login' to setup account.")
    if args[:1] in LIVE_COMMANDS:
        if not signed_in:
            fail("Please run 'az login' to setup account.")
        answer_live(args)
        return
    if args[:2] == ["account", "show"]:
        account = json.loads(account_file.read_text())
        if "--query" in args and args[args.index("--query") + 1] == "name":
            print(account["name"])  # with --output tsv
        else:
            print(json.dumps(account, indent=2))
    elif args[:3] == ["role", "assignment", "list"]:
        if "--assignee" not in args:
            fail("the following arguments are required: --assignee")
        assignee = args[args.index("--assignee") + 1]
        listed = json.loads(Path(os.environ["STANDIN_AZ_ASSIGNMENTS"]).read_text())
        print(json.dumps([a for a in listed if a.get("principalName") == assignee], indent=2))
    elif args[:1] == ["version"]:
        print(json.dumps({"azure-cli": "2.67.0"}))
    else:
        fail(f"stand-in az does not implement `az {' '.join(args)}`")


if __name__ == "__main__":
    main()

"""A stand-in for the Azure CLI (`az`), for tests on machines where the real one is absent.

It is NOT the Azure CLI: it talks to no cloud. It answers the few commands mlstart sends,
in the JSON the real CLI prints with ``--output json``, and records every invocation.

Environment:
    STANDIN_AZ_HOME: folder holding ``calls.jsonl`` (required).
    STANDIN_AZ_ACCOUNT: JSON file with what ``az account show`` prints; missing means not
        logged in (the real CLI then exits 1 asking for ``az login``).
    STANDIN_AZ_ASSIGNMENTS: JSON file with the list ``az role assignment list`` prints.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def fail(message: str) -> None:
    print(f"ERROR: {message}", file=sys.stderr)
    sys.exit(1)


def main() -> None:
    args = sys.argv[1:]
    home = Path(os.environ["STANDIN_AZ_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    with (home / "calls.jsonl").open("a") as log:
        log.write(json.dumps({"args": args}) + "\n")
    account_file = Path(os.environ.get("STANDIN_AZ_ACCOUNT", "/nonexistent"))
    if args[:2] in (["account", "show"], ["role", "assignment"]) and not account_file.exists():
        fail("Please run 'az login' to setup account.")
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

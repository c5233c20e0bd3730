"""``python -m mlstart_infra.prices``: regenerate the shipped price table, or re-record it.

* ``build`` writes ``prices.json`` from ``recorded_answer.json`` (``--check`` only says
  whether it is up to date, exiting 1 when not);
* ``record`` asks the live Retail Prices API the recorded answer's queries again and
  rewrites ``recorded_answer.json`` (then run ``build``). It needs the network.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mlstart_infra.prices import RetailPricesError
from mlstart_infra.prices.build import (
    build_table,
    load_recorded,
    record,
    recorded_path,
    render,
    shipped_path,
)
from mlstart_infra.prices.client import RetailPricesClient, default_url


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m mlstart_infra.prices")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="write prices.json from the recorded answer")
    build.add_argument("--recorded", type=Path, default=None, help="the recorded answer")
    build.add_argument("--out", type=Path, default=None, help="where to write the table")
    build.add_argument("--check", action="store_true", help="only compare; exit 1 if stale")
    again = commands.add_parser("record", help="re-record the answer from the live API")
    again.add_argument("--recorded", type=Path, default=None, help="the answer to rewrite")
    again.add_argument("--url", default=None, help="the API's address (default: Microsoft's)")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            return _build(args.recorded, args.out, check=args.check)
        return _record(args.recorded, args.url)
    except (RetailPricesError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _build(recorded: Path | None, out: Path | None, *, check: bool) -> int:
    text = render(build_table(load_recorded(recorded)))
    target = out or shipped_path()
    if check:
        current = target.read_text(encoding="utf-8") if target.is_file() else ""
        if current != text:
            print(f"{target} is not the table the recorded answer builds: run "
                  "`python -m mlstart_infra.prices build`", file=sys.stderr)  # fmt: skip
            return 1
        print(f"{target} is up to date")
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


def _record(recorded: Path | None, url: str | None) -> int:
    where = recorded or recorded_path()
    old = load_recorded(where)
    client = RetailPricesClient(base_url=url or default_url(), currency=old["currency"])
    where.write_text(render(record(old, client)), encoding="utf-8")
    print(f"wrote {where}: now run `python -m mlstart_infra.prices build`")
    return 0


if __name__ == "__main__":
    sys.exit(main())

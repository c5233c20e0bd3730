"""Measure `mlstart plan` wall time on a freshly generated default project.

Run from the repository root with mlstart and its `azure` extra installed:

    python benchmarks/bench_plan.py [--repeat 5]

Target: under 5 s per plan (a cold process: Python start, Pulumi and the azure-native
modules the program uses, the program under mocks, policies and prices). Also prints the
`--json` variant and a warm in-process plan, to show where the time goes.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
TARGET_S = 5.0
#: A public key for the workstation (the stack config must hold one; not a key anybody holds).
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Qta2V5LW9ubHktZm9yLXRlc3Rz bench@example"


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        subprocess.run(
            [str(BIN / "mlstart"), "new", "bench", "--defaults", "--no-lock", "--no-git",
             "-o", str(root), "-d", f"ssh_public_key={KEY}"],
            check=True, capture_output=True,
        )  # fmt: skip
        project = root / "bench"
        mlstart = str(BIN / "mlstart")
        timed([mlstart, "plan", str(project)], root)  # warm the file cache and .pyc files
        text = [timed([mlstart, "plan", str(project)], root) for _ in range(args.repeat)]
        as_json = [
            timed([mlstart, "plan", str(project), "--json"], root) for _ in range(args.repeat)
        ]

        from mlstart.core.plan import plan_project

        plan_project(project)
        start = time.perf_counter()
        report = plan_project(project)
        warm = time.perf_counter() - start

    median = statistics.median(text)
    print(f"mlstart plan (default project, {len(report.graph.cloud_resources)} resources)")
    print(
        f"  cold process, text : median {median:.2f} s  (min {min(text):.2f}, max {max(text):.2f})"
    )
    print(f"  cold process, --json: median {statistics.median(as_json):.2f} s")
    print(f"  warm, in-process    : {warm:.2f} s")
    print(f"  target < {TARGET_S:.0f} s: {'met' if median < TARGET_S else 'MISSED'}")


if __name__ == "__main__":
    main()

"""Time to green of a generated project, and `make train`.

Run from the repository root with mlstart installed and uv's cache warm (the packages of an
earlier `make setup`; offline works then):

    python benchmarks/bench_green.py [--repeat 3] [--keep DIR]

Each round generates a fresh project in a scratch folder and times, one after the other:

    mlstart new demo --defaults      (renders, locks, commits)
    make setup                       (uv sync, bytecode compiled)
    make test                        (the generated project's whole test suite)
    make train                       (data, then the first tracked training: creates mlflow.db)
    make train                       (again: a new run and model version in that store)

Time to green is ``new + setup + test``. Reported: median, min and max of each step, and
the load average before and after (the figures depend on what else the machine runs).

Targets, on a 2-core machine with a warm uv cache: time to green under 30 s, ``make train``
under 5 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlstart.core.tools import find_uv

BIN = Path(sys.executable).parent
STEPS = ("new", "setup", "test", "train", "train again")


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        output = result.stdout + result.stderr
        sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{output}")
    return elapsed


def one_round(folder: Path, env: dict[str, str]) -> dict[str, float]:
    times = {"new": timed([str(BIN / "mlstart"), "new", "demo", "--defaults"], folder, env)}
    project = folder / "demo"
    for step, target in (
        ("setup", "setup"),
        ("test", "test"),
        ("train", "train"),
        ("train again", "train"),
    ):
        times[step] = timed(["make", target], project, env)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds (fresh project each)")
    parser.add_argument("--keep", type=Path, help="keep the generated projects in this folder")
    args = parser.parse_args()

    uv = find_uv()
    if uv is None:
        sys.exit("uv not found: install mlstart's dependencies first")
    env = {**os.environ, "PATH": f"{Path(uv).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("MLFLOW_TRACKING_URI", None)
    load_before = os.getloadavg()
    rounds: list[dict[str, float]] = []
    for number in range(args.repeat):
        folder = Path(tempfile.mkdtemp(prefix=f"bench-green-{number}-"))
        try:
            rounds.append(one_round(folder, env))
        finally:
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                shutil.move(str(folder), args.keep / folder.name)
            else:
                shutil.rmtree(folder, ignore_errors=True)
        to_green = sum(rounds[-1][step] for step in ("new", "setup", "test"))
        steps = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in rounds[-1].items())
        print(f"round {number + 1}: {steps}; time to green {to_green:.1f} s", flush=True)
    load_after = os.getloadavg()

    def spread(values: list[float]) -> str:
        return f"{statistics.median(values):6.1f} {min(values):6.1f} {max(values):6.1f}"

    no_bytecode = os.environ.get("PYTHONDONTWRITEBYTECODE", "")
    print(f"\n{args.repeat} rounds; seconds as median, min, max ({os.cpu_count()} CPUs, "
          f"PYTHONDONTWRITEBYTECODE={no_bytecode!r})")  # fmt: skip
    for step in STEPS:
        print(f"  make {step:12}" if step != "new" else f"  mlstart {step:10}",
              spread([r[step] for r in rounds]))  # fmt: skip
    green = [r["new"] + r["setup"] + r["test"] for r in rounds]
    print(f"  time to green  {spread(green)}   (target < 30 s)")
    print(f"  make train     {spread([r['train'] for r in rounds])}   (target < 5 s)")
    print(f"load average (1, 5, 15 min): before {load_before}, after {load_after}")


if __name__ == "__main__":
    main()

"""Seconds per training epoch of a pytorch project's network, on the CPU and on CUDA.

Run from the repository root, with a generated pytorch project whose environment holds
torch (on a GPU machine: ``make setup``; on a CPU machine, the environment that
tests/test_generated_pytorch.py builds from the same lock with the CPU build of torch):

    python benchmarks/bench_epoch.py PROJECT [--epochs 20] [--repeat 5] [--rows 442]

For every device present (the CPU always, CUDA when PyTorch sees a GPU), it fits the
project's own network (``<package>.network.TabularNetwork``, the path `make train` takes) on
the bundled data, ``--repeat`` times, and reports the median seconds per epoch, one
process, deterministic algorithms on, as training runs. ``--rows`` repeats the 442 rows to
time a larger table. The ratio CPU/GPU is printed when both were measured.

The figures depend on the machine and what else it runs; record them with the machine's
name (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tomllib
from pathlib import Path

#: Runs inside the project's own Python, so the project's torch and code are measured.
MEASURE = r"""
import json, statistics, sys, time
import numpy as np, torch
from {package}.config import Paths, load_params
from {package}.data import export_raw, features_and_target, load_raw
from {package}.model import build_pipeline

epochs, repeat, rows = {epochs}, {repeat}, {rows}
paths = Paths(__import__("pathlib").Path({root!r}))
export_raw(paths)
params = load_params(paths)
features, target = features_and_target(load_raw(paths), params)
copies = -(-rows // len(features))
features = features.loc[features.index.repeat(copies)].head(rows)
target = target.loc[target.index.repeat(copies)].head(rows)
devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
results = {{}}
for device in devices:
    settings = {{**params, "model": {{**params["model"], "epochs": epochs, "device": device}}}}
    times = []
    for _ in range(repeat + 1):  # the first fit warms up (imports, CUDA context)
        model = build_pipeline(settings, seed=int(params["seed"]))
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        model.fit(features, target)
        if device == "cuda":
            torch.cuda.synchronize()
        times.append((time.perf_counter() - start) / epochs)
    results[device] = {{
        "seconds_per_epoch_median": statistics.median(times[1:]),
        "seconds_per_epoch_min": min(times[1:]),
        "name": model[-1].device_,
    }}
summary = {{"torch": torch.__version__, "rows": rows, "epochs": epochs, "devices": results}}
print(json.dumps(summary))
"""


def main() -> None:
    """Measure and print the seconds per epoch of each device, as JSON and a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path, help="a generated project with workload=pytorch")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rows", type=int, default=442)
    args = parser.parse_args()
    project = args.project.resolve()
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    package = meta["project"]["name"].replace("-", "_")
    if not (project / "src" / package / "network.py").is_file():
        sys.exit(f"{project} is not a pytorch project (no src/{package}/network.py)")
    python = project / ".venv" / "bin" / "python"
    script = MEASURE.format(
        package=package, epochs=args.epochs, repeat=args.repeat, rows=args.rows, root=str(project)
    )
    output = subprocess.run(
        [str(python), "-c", script], cwd=project, capture_output=True, text=True, check=False
    )
    if output.returncode != 0:
        sys.exit(f"measuring failed ({output.returncode}):\n{output.stderr}")
    result = json.loads(output.stdout.splitlines()[-1])
    print(json.dumps(result, indent=2))
    devices = result["devices"]
    for figures in devices.values():
        per_epoch = figures["seconds_per_epoch_median"] * 1000
        print(f"{figures['name']}: {per_epoch:.1f} ms per epoch ({result['rows']} rows)")
    if "cuda" in devices:
        ratio = (
            devices["cpu"]["seconds_per_epoch_median"] / devices["cuda"]["seconds_per_epoch_median"]
        )
        print(f"CPU / GPU time per epoch: {ratio:.2f}x")
    else:
        print("no CUDA GPU seen: GPU time per epoch not measured on this machine")


if __name__ == "__main__":
    main()

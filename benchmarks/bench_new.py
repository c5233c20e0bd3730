"""Measure `mlstart new` against plain `copier copy` of the same template, and start-up time.

Run from the repository root with mlstart installed:

    python benchmarks/bench_new.py [--repeat 7]

Targets: `mlstart --help` under 0.2 s; `mlstart new --defaults --no-lock` within 1.2x of
plain copier. Both render the same template folder (a copy outside git, as in an installed
wheel), so the comparison measures mlstart's own overhead: validation, atomic staging,
answers bookkeeping and the initial git commit.
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
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def timed(command: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def median_of(repeat: int, run_once: Callable[[int], float]) -> float:
    return statistics.median(run_once(i) for i in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        template = root / "template-src"
        template.mkdir()
        shutil.copy2(REPO_ROOT / "copier.yml", template / "copier.yml")
        shutil.copytree(REPO_ROOT / "template", template / "template")
        env = {**os.environ, "MLSTART_TEMPLATE": str(template)}

        def copier_once(i: int) -> float:
            return timed(
                [str(BIN / "copier"), "copy", "--quiet", "--trust", "--defaults",
                 "--data", "project_name=bench", str(template), str(root / f"copier-{i}")],
                cwd=root, env=env,
            )  # fmt: skip

        def mlstart_once(i: int, *extra: str) -> float:
            out = root / f"mlstart-{i}-{len(extra)}"
            return timed(
                [str(BIN / "mlstart"), "new", "bench", "--defaults", "--no-lock", *extra,
                 "--output-dir", str(out)],
                cwd=root, env=env,
            )  # fmt: skip

        help_time = median_of(
            args.repeat, lambda _i: timed([str(BIN / "mlstart"), "--help"], cwd=root)
        )
        copier_time = median_of(args.repeat, copier_once)
        mlstart_time = median_of(args.repeat, lambda i: mlstart_once(i))
        mlstart_nogit = median_of(args.repeat, lambda i: mlstart_once(i, "--no-git"))

    print(f"median of {args.repeat} runs")
    print(f"mlstart --help                       {help_time:6.3f} s   (target < 0.200 s)")
    print(f"copier copy --defaults               {copier_time:6.3f} s")
    print(f"mlstart new --defaults --no-lock     {mlstart_time:6.3f} s   "
          f"ratio {mlstart_time / copier_time:.2f}x (target <= 1.20x)")  # fmt: skip
    print(f"mlstart new ... --no-git             {mlstart_nogit:6.3f} s   "
          f"ratio {mlstart_nogit / copier_time:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()

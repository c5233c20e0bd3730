"""Measure `mlstart new` against plain `copier copy` of the same template, like for like.

Run from the repository root with mlstart installed:

    python benchmarks/bench_new.py [--repeat 9] [--ccds-template DIR]

Every tool renders the same template folder (a copy outside git, as in an installed wheel),
without locking. The pairs compared do the same work:

- ``copier copy --defaults`` against ``mlstart new --defaults --no-lock --no-git``: rendering
  alone, so the ratio is mlstart's own overhead (validation, staging, answers bookkeeping);
- ``copier copy`` followed by ``git init && git add -A && git commit`` against
  ``mlstart new --defaults --no-lock``, which also makes the initial commit.

Runs alternate: each round runs every command once, in the opposite order to the round
before, so a change in the machine's load falls on all of them alike. Reported: median, min
and max of the wall time and of the CPU time (user + system, the process and its children),
and the median over rounds of each round's CPU ratio to plain copier.

cookiecutter-data-science (``ccds``, from PyPI) is timed too when its command is installed
and its template is given with ``--ccds-template``: the package does not ship the template,
it clones it from GitHub, which these machines cannot reach (a checkout of the tag matching
the installed version works offline). It renders a different, smaller template, so its
figures are a reference, not a like-for-like ratio.

Both tools run with their modules' bytecode compiled, as installed tools are: copier's is
compiled in the virtual environment; mlstart's own package is compiled first, since an
editable checkout has none and, where PYTHONDONTWRITEBYTECODE is set, would recompile
mlstart's modules on every run.

Target: ``mlstart new --no-git --no-lock`` at most 1.0x plain copier's CPU time.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


@dataclass
class Sample:
    """The wall and CPU seconds of one command (or sequence of commands)."""

    wall: float
    cpu: float


@dataclass
class Variant:
    """A named way to generate a project: the commands to run for output folder ``out``."""

    name: str
    commands: Callable[[Path], list[list[str]]]
    samples: list[Sample] = field(default_factory=list)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_timed(commands: Sequence[Sequence[str]], *, cwd: Path, env: dict[str, str]) -> Sample:
    """Run the commands one after the other; their wall and CPU seconds, summed."""
    cpu_before, start = children_cpu(), time.perf_counter()
    for command in commands:
        subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
    return Sample(time.perf_counter() - start, children_cpu() - cpu_before)


def spread(values: Sequence[float]) -> str:
    return f"{statistics.median(values):7.3f} {min(values):7.3f} {max(values):7.3f}"


def find_ccds(given: str | None) -> str | None:
    if given:
        return given
    beside = BIN / "ccds"
    return str(beside) if beside.exists() else shutil.which("ccds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9, help="rounds of alternating runs")
    parser.add_argument("--ccds", help="the ccds command (default: beside python, or on PATH)")
    parser.add_argument(
        "--ccds-template", type=Path, help="a checkout of the cookiecutter-data-science template"
    )
    args = parser.parse_args()

    import mlstart as package

    compileall.compile_dir(Path(package.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        template = root / "template-src"
        template.mkdir()
        shutil.copy2(REPO_ROOT / "copier.yml", template / "copier.yml")
        shutil.copytree(REPO_ROOT / "template", template / "template")
        env = {**os.environ, **GIT_ENV, "MLSTART_TEMPLATE": str(template)}
        copier = [str(BIN / "copier"), "copy", "--quiet", "--trust", "--defaults"]
        mlstart = [str(BIN / "mlstart"), "new", "bench", "--defaults", "--no-lock"]
        git_commit = [
            ["git", "-C", "{out}", "init", "-q"],
            ["git", "-C", "{out}", "add", "-A"],
            ["git", "-C", "{out}", "commit", "-q", "-m", "Initial commit"],
        ]

        def with_out(out: Path, commands: list[list[str]]) -> list[list[str]]:
            return [[part.replace("{out}", str(out)) for part in cmd] for cmd in commands]

        variants = [
            Variant(
                "copier copy",
                lambda out: [[*copier, "--data", "project_name=bench", str(template), str(out)]],
            ),
            Variant(
                "mlstart new --no-git",
                lambda out: [[*mlstart, "--no-git", "--output-dir", str(out)]],
            ),
            Variant(
                "copier copy + git commit",
                lambda out: [
                    [*copier, "--data", "project_name=bench", str(template), str(out / "bench")],
                    *with_out(out / "bench", git_commit),
                ],
            ),
            Variant("mlstart new", lambda out: [[*mlstart, "--output-dir", str(out)]]),
        ]
        ccds = find_ccds(args.ccds)
        if ccds and args.ccds_template:
            variants.append(
                Variant(
                    "ccds --no-input (other template)",
                    lambda out: [
                        [ccds, str(args.ccds_template), "--no-input", "--output-dir", str(out)]
                    ],
                )
            )
            ccds_note = ""
        else:
            ccds_note = (
                "cookiecutter-data-science: not run ("
                + ("no --ccds-template: " if ccds else "ccds not installed; ")
                + "its template is cloned from GitHub, which is not reachable offline)"
            )

        help_samples = [
            run_timed([[str(BIN / "mlstart"), "--help"]], cwd=root, env=env)
            for _ in range(args.repeat)
        ]
        for round_number in range(args.repeat):
            order = variants if round_number % 2 == 0 else variants[::-1]
            for variant in order:
                out = root / f"out-{round_number}-{variants.index(variant)}"
                out.mkdir()
                variant.samples.append(run_timed(variant.commands(out), cwd=root, env=env))
                shutil.rmtree(out)

    print(f"{args.repeat} alternating rounds; seconds as median, min, max")
    print(f"{'':36} {'wall':^23}   {'CPU':^23}   CPU ratio")
    print(f"{'mlstart --help':36} {spread([s.wall for s in help_samples])}   (target < 0.200 s)")
    baselines = {"mlstart new --no-git": variants[0], "mlstart new": variants[2]}
    for variant in variants:
        line = f"{variant.name:36} {spread([s.wall for s in variant.samples])}   "
        line += f"{spread([s.cpu for s in variant.samples])}"
        baseline = baselines.get(variant.name)
        if baseline is not None:
            pairs = zip(variant.samples, baseline.samples, strict=True)
            ratios = [mine.cpu / theirs.cpu for mine, theirs in pairs]
            line += f"   {statistics.median(ratios):.2f}x {baseline.name}"
            if variant.name == "mlstart new --no-git":
                line += " (target <= 1.00x)"
        print(line)
    if ccds_note:
        print(ccds_note)


if __name__ == "__main__":
    main()

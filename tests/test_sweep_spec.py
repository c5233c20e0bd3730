"""The hyperparameter search of a scikit-learn project: params.yaml and aml/sweep-job.yml agree.

The grid, metric and goal are written once in the template (params.yaml.jinja) and imported
by the sweep job's template; these tests render projects and check that the Azure ML sweep
searches exactly the grid `make sweep` searches, on the metric training logs, on the cluster
Pulumi creates. Loading the job with azure-ai-ml is tests/test_azureml_yaml.py's part.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from mlstart_infra.project import find_project, read_stack_config

from tests.conftest import render_project


def render(parent: Path, **answers: Any) -> Path:
    return render_project(parent, "Sweep Check", **answers)


def make_targets(project: Path) -> set[str]:
    """The Makefile's targets, and the .PHONY names."""
    lines = (project / "Makefile").read_text(encoding="utf-8").splitlines()
    phony = next(line for line in lines if line.startswith(".PHONY:")).split()[1:]
    return {line.split(":")[0] for line in lines if line[:1].isalpha() and ":" in line} | set(phony)


@pytest.mark.usefixtures("from_plain_template")
@pytest.mark.parametrize(
    ("task", "training_cluster", "metric", "goal"),
    [
        ("classification", True, "roc_auc", "maximize"),
        ("regression", False, "rmse", "minimize"),
    ],
)
def test_sweep_job_searches_the_grid_of_params_yaml(
    tmp_path: Path, task: str, training_cluster: bool, metric: str, goal: str
) -> None:
    project = render(
        tmp_path, workload="sklearn", task=task, training_cluster=training_cluster,
        cluster_max_nodes=3,
    )  # fmt: skip
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    job = yaml.safe_load((project / "aml" / "sweep-job.yml").read_text(encoding="utf-8"))
    sweep = params["sweep"]
    space: dict[str, list[Any]] = sweep["space"]

    assert (sweep["metric"], sweep["goal"]) == (metric, goal)
    # The objective is a metric training computes, and so logs to MLflow.
    assert metric in params["promotion"]["tolerance"]
    assert job["type"] == "sweep" and job["sampling_algorithm"] == "grid"
    assert job["search_space"] == {
        key.rsplit(".", 1)[-1]: {"type": "choice", "values": values}
        for key, values in space.items()
    }
    assert job["objective"] == {"goal": goal, "primary_metric": metric}
    trials = math.prod(len(values) for values in space.values())
    assert trials > 1
    assert job["limits"]["max_total_trials"] == trials
    command = job["trial"]["command"]
    for key in space:
        # Every point is a real parameter of train (`--set` refuses unknown keys).
        section, name = key.split(".")
        assert name in params[section]
        assert f"--set {key}=${{{{search_space.{key.rsplit('.', 1)[-1]}}}}}" in command
    # Trials log their metrics but register nothing; the model output is the best trial's.
    assert "train --set tracking.enabled=false" in command
    assert " log-trial" in command
    assert command.rstrip().endswith("${{outputs.model}}")
    assert job["outputs"] == {"model": {"type": "uri_folder"}}
    assert "sweep" in make_targets(project)
    if training_cluster:
        stack = read_stack_config(find_project(project, python_program=False), "dev")
        assert job["compute"] == f"azureml:{stack.get('clusterName')}"
        assert job["limits"]["max_concurrent_trials"] == int(stack.get("clusterMaxNodes") or 0) == 3
        assert "resources" not in job
    else:
        assert "compute" not in job
        assert job["resources"]["instance_type"].startswith("Standard_")
        assert job["limits"]["max_concurrent_trials"] == trials


@pytest.mark.usefixtures("from_plain_template")
def test_only_scikit_learn_projects_get_a_sweep(tmp_path: Path) -> None:
    project = render(tmp_path, workload="pytorch")
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    package = project / "src" / "sweep_check"

    assert "sweep" not in params
    assert not (project / "aml" / "sweep-job.yml").exists()
    assert not (package / "sweep.py").exists()
    assert not (project / "tests" / "test_sweep.py").exists()
    assert "sweep" not in make_targets(project)

"""The generated project's own infra tests pass, and its infra code is lint-clean.

They run with this environment's Python (which has pulumi and pulumi-azure-native from
the `azure` extra) instead of installing infra/requirements.txt (~350 MB) again.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from mlstart import __version__

from tests.conftest import REPO_ROOT, Generate, run
from tests.infra.conftest import TEST_KEY

COMBINATIONS: list[dict[str, Any]] = [
    {},
    {"gpu_workstation": False, "serving": "none", "training_cluster": False},
    {"serving": "aml-endpoint", "workstation_kind": "compute-instance",
     "cluster_low_priority": True, "time_zone": "W. Europe Standard Time"},
]  # fmt: skip


def _env() -> dict[str, str]:
    return {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": "", "VIRTUAL_ENV": ""}


@pytest.mark.parametrize("answers", COMBINATIONS, ids=["default", "minimal", "instance-endpoint"])
def test_generated_infra_tests_pass(generate: Generate, answers: dict[str, Any]) -> None:
    project = generate("Generated Infra", **answers)
    result = run(
        [sys.executable, "-m", "pytest", "infra/tests", "-q", "-p", "no:cacheprovider"],
        project,
        env=_env(),
        timeout=300,
    )
    summary = result.stdout.strip().splitlines()[-1]
    passed = int(re.search(r"(\d+) passed", summary).group(1))  # type: ignore[union-attr]
    assert "failed" not in summary and "error" not in summary
    assert passed >= (10 if not answers else 5), summary


def test_generated_infra_tests_can_fail(generate: Generate) -> None:
    """The generated tests notice a broken program (here: a cluster that never scales to 0)."""
    project = generate("Broken Infra", ssh_public_key=TEST_KEY)
    cluster = project / "infra" / "components" / "cluster.py"
    cluster.write_text(
        cluster.read_text(encoding="utf-8").replace("min_node_count=0", "min_node_count=1"),
        encoding="utf-8",
    )
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "infra/tests", "-q", "-p", "no:cacheprovider"],
        cwd=project, capture_output=True, text=True, env={**os.environ, **_env()}, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "test_cluster_scales_to_zero_without_public_ips" in result.stdout


def test_generated_infra_is_lint_clean_and_pinned(generate: Generate) -> None:
    project = generate("Lint Infra", gpu_workstation=True, serving="aml-endpoint")
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or "ruff"
    run([ruff, "check", "--no-cache", "infra"], project)
    run([ruff, "format", "--check", "--no-cache", "infra"], project)
    requirements = (project / "infra" / "requirements.txt").read_text(encoding="utf-8")
    assert "pulumi==3.272.0" in requirements and "pulumi-azure-native==3.29.0" in requirements
    pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert "pulumi" not in pyproject  # kept out of the project's default environment
    shipped = sorted(p.name for p in (project / "infra" / "components").glob("*.py"))
    source = sorted(p.name for p in (REPO_ROOT / "infra/mlstart_infra/components").glob("*.py"))
    assert shipped == source
    for name in source:
        assert (project / "infra/components" / name).read_bytes() == (
            REPO_ROOT / "infra/mlstart_infra/components" / name
        ).read_bytes()
    assert __version__


def test_stack_config_holds_the_answers(generate: Generate) -> None:
    import yaml

    project = generate(
        "Config Demo", vm_size="Standard_NC8as_T4_v3", shutdown_time="18:30",
        cluster_max_nodes=4, monthly_budget=250, decommission_by="2099-12-31",
        snapshot_date="2026-03-15", workstation_public_ip=True, ssh_allowed_cidr="10.0.0.1/32",
    )  # fmt: skip
    config = yaml.safe_load((project / "infra/Pulumi.dev.yaml").read_text(encoding="utf-8"))
    config = config["config"]
    assert config["azure-native:location"] == "westeurope"
    assert config["config-demo:vmSize"] == "Standard_NC8as_T4_v3"
    assert config["config-demo:shutdownTime"] == "18:30"
    assert config["config-demo:clusterMaxNodes"] == "4"
    assert float(config["config-demo:budgetAmount"]) == 250
    assert "config-demo:budgetStartDate" not in config  # the current month at deploy time
    assert config["config-demo:decommissionBy"] == "2099-12-31"
    assert config["config-demo:sshAllowedCidr"] == "10.0.0.1/32"
    assert config["config-demo:sshPublicKey"].startswith("ssh-ed25519 ")  # text, not a path
    assert re.fullmatch(r"[0-9a-f]{6}", config["config-demo:nameSuffix"])
    pulumi_yaml = yaml.safe_load((project / "infra/Pulumi.yaml").read_text(encoding="utf-8"))
    assert pulumi_yaml["name"] == "config-demo"
    # `pulumi install` / `pulumi up` build the program's environment from requirements.txt.
    assert pulumi_yaml["runtime"] == {
        "name": "python",
        "options": {"toolchain": "pip", "virtualenv": ".venv"},
    }


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"workstation_public_ip": True}, "must be an IPv4 CIDR"),
        ({"workstation_public_ip": True, "ssh_allowed_cidr": "0.0.0.0/0"}, "whole internet"),
        ({"shutdown_notice_minutes": 5}, "between 15 and 120 minutes"),
        ({"idle_shutdown_minutes": 5}, "15-1440 minutes, or 0 to turn it off"),
        ({"idle_shutdown_minutes": 1441}, "15-1440 minutes, or 0 to turn it off"),
        ({"workstation_kind": "laptop"}, "'workstation_kind': 'laptop' is not in"),
        ({"idle_gpu_percent": 0}, "idle GPU threshold must be 1-100 percent"),
    ],
)
def test_infra_answers_are_validated(
    generate: Generate, answers: dict[str, Any], message: str
) -> None:
    from mlstart.errors import InvalidAnswerError

    with pytest.raises(InvalidAnswerError, match=message) as raised:
        generate("Bad Infra", **answers)
    assert "\n" not in str(raised.value)


def test_names_reach_the_azure_ml_files_and_ci_from_one_place(generate: Generate) -> None:
    """The endpoint and cluster names: stack config, Azure ML YAML, CI and the plan agree."""
    import yaml
    from mlstart_infra.offline.plan import plan_project

    project = generate("Named", serving="aml-endpoint")
    config = yaml.safe_load((project / "infra/Pulumi.dev.yaml").read_text(encoding="utf-8"))
    config = config["config"]
    deployment = yaml.safe_load((project / "aml/online-deployment.yml").read_text("utf-8"))
    job = yaml.safe_load((project / "aml/train-job.yml").read_text(encoding="utf-8"))
    assert deployment["endpoint_name"] == config["named:endpointName"]
    assert job["compute"] == f"azureml:{config['named:clusterName']}"
    graph = plan_project(project)
    planned = {r.type.rsplit(":", 1)[-1]: r.azure_name for r in graph.cloud_resources}
    assert planned["OnlineEndpoint"] == config["named:endpointName"]
    assert planned["Compute"] == config["named:clusterName"]
    assert planned["OnlineDeployment"] == deployment["name"]
    workflow = (project / ".github/workflows/deploy.yml").read_text(encoding="utf-8")
    assert f"online-deployment show --name {deployment['name']} " in workflow

"""Generated projects pass every offline validator with no findings, for each CI provider.

hadolint (Dockerfile), check-jsonschema (GitHub workflows, Azure Pipelines), zizmor (GitHub
workflow security), checkov (Dockerfile and CI, in its own environment; slow), the Azure ML
job spec's structure, the pre-commit configuration, and `pre-commit run --all-files` on a
synced project (slow).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from mlstart.core.new import NewProjectResult, new_project
from mlstart.core.tools import find_uv

from tests.conftest import REPO_ROOT, SHARES_SYNCED_PROJECT, uv_env
from tests.ship_helpers import completed, tool, uv_cache_env

VARIANTS: dict[str, dict[str, Any]] = {
    "github-container-apps": {
        "ci_provider": "github",
        "serving": "container-apps",
        "batch_scoring": True,
        "retrain_cadence": "monthly",
        "environments": "dev,prod",
    },
    "github-aml-endpoint-serverless": {
        "ci_provider": "github",
        "serving": "aml-endpoint",
        "training_cluster": False,
        "task": "regression",
        "environments": "dev,staging,prod",
    },
    "github-no-serving": {
        "ci_provider": "github",
        "serving": "none",
        "retrain_cadence": "none",
        "environments": "dev,prod",
    },
    "azure-devops-container-apps": {
        "ci_provider": "azure-devops",
        "serving": "container-apps",
        "environments": "dev,prod",
    },
    "azure-devops-aml-endpoint": {
        "ci_provider": "azure-devops",
        "serving": "aml-endpoint",
        "batch_scoring": True,
        "batch_cadence": "weekly",
        "retrain_cadence": "monthly",
        "environments": "dev,staging,prod",
    },
    "azure-devops-no-serving": {
        "ci_provider": "azure-devops",
        "serving": "none",
        "training_cluster": False,
        "retrain_cadence": "none",
    },
    "no-ci": {"ci_provider": "none", "python_version": "3.12"},
    "github-pytorch": {
        "ci_provider": "github",
        "serving": "aml-endpoint",
        "workload": "pytorch",
        "batch_scoring": True,
        "batch_cadence": "none",
    },
}
#: The CI schedules (cron, UTC) of each cadence: retraining, and batch scoring.
RETRAIN_CRON = {"weekly": "0 5 * * 1", "monthly": "0 5 1 * *"}
BATCH_CRON = {"daily": "0 6 * * *", "weekly": "0 6 * * 1"}
#: Drift monitoring: an hour after daily batch scoring (True), else weekly (False).
MONITOR_CRON = {True: "0 7 * * *", False: "0 3 * * 1"}
PACKAGE = "ship_check"


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One rendered project (no lock, no git) per variant."""
    rendered = {}
    for name, answers in VARIANTS.items():
        result = new_project(
            "Ship Check",
            output_dir=tmp_path_factory.mktemp(name),
            data=answers,
            defaults=True,
            git=False,
            lock=False,
        )
        rendered[name] = result.path
    return rendered


def variants_with(**wanted: Any) -> list[str]:
    return [
        name
        for name, answers in VARIANTS.items()
        if all(answers.get(key) == value for key, value in wanted.items())
    ]


def answers_of(project: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return loaded


def assert_clean(result: Any, what: str) -> None:
    assert result.returncode == 0, (
        f"{what} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    )


# ---------------------------------------------------------------- Dockerfile


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_hadolint_finds_nothing(projects: dict[str, Path], variant: str) -> None:
    project = projects[variant]
    result = completed([tool("hadolint"), "--no-color", "Dockerfile"], project)
    assert_clean(result, "hadolint")
    assert result.stdout.strip() == ""


@pytest.mark.parametrize("variant", ["github-container-apps", "no-ci"])
def test_dockerfile_is_multi_stage_locked_non_root_and_healthy(
    projects: dict[str, Path], variant: str
) -> None:
    project = projects[variant]
    text = (project / "Dockerfile").read_text()
    python_version = answers_of(project)["python_version"]
    assert f"ARG PYTHON_TAG={python_version}-slim-bookworm" in text
    assert "ARG PYTHON_IMAGE=python\n" in text
    assert len(re.findall(r"^FROM ", text, flags=re.MULTILINE)) >= 3
    assert "uv sync --locked --no-dev" in text
    user = re.findall(r"^USER (\S+)$", text, flags=re.MULTILINE)
    assert user and all(part.isdigit() and int(part) > 0 for part in user[-1].split(":"))
    assert re.search(r"^HEALTHCHECK .*\n.*/health", text, flags=re.MULTILINE)
    cmd = re.findall(r"^CMD (\[.*\])$", text, flags=re.MULTILINE)
    assert json.loads(cmd[-1])[:2] == ["uvicorn", f"{PACKAGE}.serving.app:app"]
    assert "COPY models/model.joblib models/schema.json /app/models/" in text


def test_pytorch_image_and_devcontainer_stand_on_the_cuda_runtime(
    projects: dict[str, Path],
) -> None:
    project = projects["github-pytorch"]
    text = (project / "Dockerfile").read_text()
    spec = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    image, tag = spec["cuda_base_image"]["default"].split(":")
    assert image == "nvidia/cuda" and re.fullmatch(r"\d+\.\d+\.\d+-runtime-ubuntu\d+\.\d+", tag)
    assert f"ARG CUDA_IMAGE={image}\nARG CUDA_TAG={tag}\n" in text
    assert "FROM ${CUDA_IMAGE}:${CUDA_TAG} AS build" in text
    assert "FROM ${CUDA_IMAGE}:${CUDA_TAG} AS runtime" in text
    assert "PYTHON_IMAGE" not in text
    assert f"uv python install {answers_of(project)['python_version']}" in text
    user = re.findall(r"^USER (\S+)$", text, flags=re.MULTILINE)
    assert user and all(part.isdigit() and int(part) > 0 for part in user[-1].split(":"))
    assert re.search(r"^HEALTHCHECK .*\n.*/health", text, flags=re.MULTILINE)
    config = json.loads((project / ".devcontainer" / "devcontainer.json").read_text())
    assert config["hostRequirements"] == {"gpu": "optional"}
    assert config["build"]["args"] == {"CUDA_IMAGE": image, "CUDA_TAG": tag}
    assert "hostRequirements" not in json.loads(
        (projects["github-container-apps"] / ".devcontainer" / "devcontainer.json").read_text()
    )


def test_dockerignore_keeps_data_environments_git_and_notebooks_out(
    projects: dict[str, Path],
) -> None:
    lines = (projects["github-container-apps"] / ".dockerignore").read_text().splitlines()
    patterns = [line for line in lines if line and not line.startswith("#")]
    assert patterns[0] == "*", "everything is ignored first, then what the image needs allowed"
    allowed = {line[1:] for line in patterns if line.startswith("!")}
    assert allowed == {
        "pyproject.toml", "uv.lock", "README.md", "src/", "models/model.joblib",
        "models/schema.json",
    }  # fmt: skip
    assert "**/*.ipynb" in patterns


def test_devcontainer_builds_the_image_environment(projects: dict[str, Path]) -> None:
    project = projects["github-container-apps"]
    config = json.loads((project / ".devcontainer" / "devcontainer.json").read_text())
    assert config["build"]["dockerfile"] == "../Dockerfile"
    assert config["build"]["target"] == "build"
    assert config["build"]["args"]["PYTHON_TAG"] == "3.11-slim-bookworm"
    assert "uv sync --locked" in config["postCreateCommand"]
    assert "FROM ${PYTHON_IMAGE}:${PYTHON_TAG} AS build" in (project / "Dockerfile").read_text()


# ---------------------------------------------------------------- CI


@pytest.mark.parametrize("variant", variants_with(ci_provider="github"))
def test_github_workflows_match_their_schema(projects: dict[str, Path], variant: str) -> None:
    project = projects[variant]
    workflows = sorted((project / ".github" / "workflows").glob("*.yml"))
    names = {path.name for path in workflows}
    assert {"ci.yml", "train.yml", "infra.yml", "plan-diff.yml", "monitor.yml"} <= names
    assert ("deploy.yml" in names) == (VARIANTS[variant]["serving"] != "none")
    assert ("batch-score.yml" in names) == VARIANTS[variant].get("batch_scoring", False)
    assert ("promote.yml" in names) == ("," in VARIANTS[variant].get("environments", "dev"))
    result = completed(
        [
            tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, workflows),
        ],
        project,
    )
    assert_clean(result, "check-jsonschema")


@pytest.mark.parametrize("variant", variants_with(ci_provider="github"))
def test_zizmor_finds_nothing(projects: dict[str, Path], variant: str) -> None:
    project = projects[variant]
    result = completed(
        [tool("zizmor"), "--offline", "--no-progress", "--format", "plain", ".github/workflows"],
        project,
        env={"NO_COLOR": "1"},
    )
    assert_clean(result, "zizmor")
    assert "No findings to report" in result.stdout + result.stderr


@pytest.mark.parametrize("variant", variants_with(ci_provider="github"))
def test_github_workflows_follow_the_security_rules(
    projects: dict[str, Path], variant: str
) -> None:
    for path in (projects[variant] / ".github" / "workflows").glob("*.yml"):
        text = path.read_text()
        workflow = yaml.safe_load(text)
        assert workflow["permissions"] == {}, path.name
        assert "concurrency" in workflow, path.name
        for line in re.findall(r"uses: (\S+.*)", text):
            if re.fullmatch(r"\$/\.github/workflows/[\w-]+\.yml", line):
                continue  # a reusable workflow of this repository, at the caller's commit
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+", line), line
        for job in workflow["jobs"].values():
            assert "permissions" in job, path.name
            logs_in = "azure/login@" in json.dumps(job)
            if "uses" in job:  # a reusable workflow of this repository: the caller grants
                called = projects[variant] / job["uses"].removeprefix("$/")
                logs_in = "azure/login@" in called.read_text()
            if logs_in:
                assert job["permissions"].get("id-token") == "write"
            else:
                assert "id-token" not in job["permissions"]
            for step in job.get("steps", []):
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False
        assert "secrets.AZURE" not in text, "Azure login is by OIDC, with no stored secret"


@pytest.mark.parametrize("variant", variants_with(ci_provider="azure-devops"))
def test_azure_pipeline_matches_its_schema(projects: dict[str, Path], variant: str) -> None:
    project = projects[variant]
    pipelines = sorted(project.glob("*pipeline*.yml"))
    assert project / "azure-pipelines.yml" in pipelines
    result = completed(
        [
            tool("check-jsonschema"), "--regex-variant", "python", "--builtin-schema",
            "vendor.azure-pipelines", *map(str, pipelines),
        ],
        project,
    )  # fmt: skip
    assert_clean(result, "check-jsonschema")
    pipeline = yaml.safe_load((project / "azure-pipelines.yml").read_text())
    stages = [stage["stage"] for stage in pipeline["stages"]]
    expected = ["checks", "infra", "plandiff", "monitor", "train"]
    if VARIANTS[variant]["serving"] != "none":
        expected.append("deploy")
    if VARIANTS[variant].get("batch_scoring"):
        expected.append("batch")
    later = VARIANTS[variant].get("environments", "dev").split(",")[1:]
    if later:
        expected += ["registry", *(f"promote_{env}" for env in later)]
    assert stages == expected
    assert (
        "azureSubscription: $(azureServiceConnection)"
        in (project / "azure-pipelines.yml").read_text()
    )


# ---------------------------------------------------------------- schedules


@pytest.mark.parametrize("variant", variants_with(ci_provider="github"))
def test_github_schedules_follow_the_cadences(projects: dict[str, Path], variant: str) -> None:
    workflows = projects[variant] / ".github" / "workflows"
    answers = answers_of(projects[variant])

    def crons(name: str) -> list[str]:
        triggers = yaml.safe_load((workflows / name).read_text())[True]  # YAML 1.1: on = true
        assert "workflow_dispatch" in triggers, name
        return [entry["cron"] for entry in triggers.get("schedule") or []]

    retrain = answers["retrain_cadence"]
    assert crons("train.yml") == ([RETRAIN_CRON[retrain]] if retrain != "none" else [])
    if answers["batch_scoring"]:
        batch = answers["batch_cadence"]
        assert crons("batch-score.yml") == ([BATCH_CRON[batch]] if batch != "none" else [])
    params = yaml.safe_load((projects[variant] / "params.yaml").read_text())
    assert params["retraining"] == {"cadence": retrain}


@pytest.mark.parametrize("variant", variants_with(ci_provider="github"))
def test_github_monitor_retrains_through_the_train_workflow_on_drift(
    projects: dict[str, Path], variant: str
) -> None:
    workflows = projects[variant] / ".github" / "workflows"
    answers = answers_of(projects[variant])
    monitor = yaml.safe_load((workflows / "monitor.yml").read_text())
    daily = answers["batch_scoring"] and answers["batch_cadence"] == "daily"
    assert [entry["cron"] for entry in monitor[True]["schedule"]] == [MONITOR_CRON[daily]]
    assert "workflow_dispatch" in monitor[True]
    check = monitor["jobs"]["monitor"]
    assert check["environment"] == "dev"  # the only subject the CI identity trusts
    step = next(step for step in check["steps"] if step.get("id") == "check")
    assert f"python -m {PACKAGE} monitor --current" in step["run"]
    assert '"$code" -eq 3' in step["run"]  # the command's drift exit code
    assert check["outputs"]["drift"] == "${{ steps.check.outputs.drift }}"
    retrain = monitor["jobs"]["retrain"]
    assert retrain == {**retrain, "needs": "monitor", "uses": "$/.github/workflows/train.yml"}
    assert retrain["if"] == "needs.monitor.outputs.drift == 'true'"
    train = yaml.safe_load((workflows / "train.yml").read_text())
    assert "workflow_call" in train[True]
    assert f"python -m {PACKAGE} promote" in (workflows / "train.yml").read_text()
    fetch = (workflows / "monitor.yml").read_text()
    assert ("az ml batch-endpoint list-jobs" in fetch) == answers["batch_scoring"]


@pytest.mark.parametrize("variant", variants_with(ci_provider="azure-devops"))
def test_azure_pipeline_schedules_start_only_their_stage(
    projects: dict[str, Path], variant: str
) -> None:
    answers = answers_of(projects[variant])
    pipeline = yaml.safe_load((projects[variant] / "azure-pipelines.yml").read_text())
    schedules = {entry["displayName"]: entry for entry in pipeline.get("schedules") or []}
    daily = answers["batch_scoring"] and answers["batch_cadence"] == "daily"
    expected = {"Drift monitoring": MONITOR_CRON[daily]}
    if answers["retrain_cadence"] != "none":
        expected["Retraining"] = RETRAIN_CRON[answers["retrain_cadence"]]
    if answers["batch_scoring"] and answers["batch_cadence"] != "none":
        expected["Batch scoring"] = BATCH_CRON[answers["batch_cadence"]]
    assert {name: entry["cron"] for name, entry in schedules.items()} == expected
    for entry in schedules.values():
        assert entry["branches"] == {"include": ["main"]} and entry["always"] == "true"
    conditions = {stage["stage"]: stage.get("condition", "") for stage in pipeline["stages"]}
    assert "'Retraining')" in conditions["train"]
    assert ("'Batch scoring')" in conditions.get("batch", "")) == answers["batch_scoring"]
    assert "'Drift monitoring')" in conditions["monitor"]
    # Training also follows drift: the monitor stage's output variable.
    assert "eq(dependencies.monitor.outputs['check.check.drift'], 'true')" in conditions["train"]
    text = (projects[variant] / "azure-pipelines.yml").read_text()
    assert f"python -m {PACKAGE} monitor --current" in text
    assert "task.setvariable variable=drift;isOutput=true" in text
    for stage in ("checks", "infra"):
        assert "ne(variables['Build.Reason'], 'Schedule')" in conditions[stage]


# ---------------------------------------------------------------- promotion between environments

#: Azure ML online endpoint names: 3-32 letters, digits and hyphens, from a letter.
ENDPOINT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{1,30}[A-Za-z0-9]")


def later_environments(project: Path) -> tuple[list[str], list[str]]:
    """The project's environments, and those the champion is promoted to (all but the first)."""
    environments = str(answers_of(project).get("environments", "dev")).split(",")
    return environments, environments[1:]


def endpoint_of(project: Path, env: str) -> str:
    """The online endpoint a later environment deploys to (the first keeps endpointName)."""
    answers = answers_of(project)
    slug = answers.get("project_slug", "ship-check")
    name = f"ep-{slug[:11].strip('-')}-{env}-{answers['name_suffix']}"
    assert ENDPOINT_NAME.fullmatch(name), name
    return name


@pytest.mark.parametrize("variant", variants_with(ci_provider="github"))
def test_github_promotes_to_each_later_environment_after_its_approval(
    projects: dict[str, Path], variant: str
) -> None:
    project = projects[variant]
    workflows = project / ".github" / "workflows"
    environments, later = later_environments(project)
    train = yaml.safe_load((workflows / "train.yml").read_text())
    if not later:
        assert not (workflows / "promote.yml").exists() and "promote" not in train["jobs"]
        return
    caller = train["jobs"]["promote"]
    assert caller["uses"] == "$/.github/workflows/promote.yml"
    assert (caller["needs"], caller["if"]) == ("train", "github.ref == 'refs/heads/main'")
    workflow = yaml.safe_load((workflows / "promote.yml").read_text())
    assert set(workflow[True]) == {"workflow_dispatch", "workflow_call"}  # YAML 1.1: on = true
    jobs = workflow["jobs"]
    assert list(jobs) == environments
    first = jobs[environments[0]]
    assert first["environment"] == environments[0]  # the subject its CI identity trusts
    share = "\n".join(step.get("run", "") for step in first["steps"])
    assert "az ml model share" in share and '--registry-name "$MODEL_REGISTRY"' in share
    serving = answers_of(project)["serving"]
    for previous, env in itertools.pairwise(environments):
        job = jobs[env]
        assert (job["environment"], job["needs"]) == (env, previous)
        assert job["env"]["SOURCE_TRACKING_URI"] == (
            "${{ needs." + previous + ".outputs.tracking_uri }}"
        )
        run = "\n".join(step.get("run", "") for step in job["steps"])
        assert f"python -m {PACKAGE} promote \\\n" in run
        assert '--from "$SOURCE_TRACKING_URI" --to "$MLFLOW_TRACKING_URI"' in run
        assert ("docker push" in run) == (serving != "none")
        if serving == "aml-endpoint":
            assert job["env"]["AZUREML_ENDPOINT"] == endpoint_of(project, env)
        elif serving == "container-apps":
            assert job["env"]["CONTAINER_APP"] == "${{ vars.CONTAINER_APP }}"


@pytest.mark.parametrize("variant", variants_with(ci_provider="azure-devops"))
def test_azure_pipeline_promotes_in_deployment_jobs_on_each_later_environment(
    projects: dict[str, Path], variant: str
) -> None:
    project = projects[variant]
    environments, later = later_environments(project)
    pipeline = yaml.safe_load((project / "azure-pipelines.yml").read_text())
    stages = {stage["stage"]: stage for stage in pipeline["stages"]}
    if not later:
        assert "registry" not in stages
        return
    assert stages["registry"]["dependsOn"] == "train"
    assert "refs/heads/main" in stages["registry"]["condition"]
    serving = answers_of(project)["serving"]
    for index, env in enumerate(later):
        stage = stages[f"promote_{env}"]
        assert stage["dependsOn"] == ("registry" if index == 0 else f"promote_{later[index - 1]}")
        (job,) = stage["jobs"]
        assert job["environment"] == env
        (task,) = [step for step in job["strategy"]["runOnce"]["deploy"]["steps"]
                   if step.get("task") == "AzureCLI@2"]  # fmt: skip
        assert task["inputs"]["azureSubscription"] == f"ship-check-{env}"
        script = task["inputs"]["inlineScript"]
        source = environments[index]
        own = f"_{env.upper()}"
        previous = "" if index == 0 else f"_{source.upper()}"
        assert f'--name "$(AZUREML_WORKSPACE{previous})"' in script
        assert f'--name "$(AZUREML_WORKSPACE{own})"' in script
        assert '--from "$source" --to "$MLFLOW_TRACKING_URI"' in script
        assert ("docker push" in script) == (serving != "none")
        if serving == "aml-endpoint":
            assert f'--endpoint-name "{endpoint_of(project, env)}"' in script


# ---------------------------------------------------------------- Azure ML


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_azure_ml_job_spec_trains_from_the_lock_on_the_answered_compute(
    projects: dict[str, Path], variant: str
) -> None:
    project = projects[variant]
    answers = answers_of(project)
    job = yaml.safe_load((project / "aml" / "train-job.yml").read_text())
    assert job["$schema"].endswith("/commandJob.schema.json")
    assert job["type"] == "command"
    assert job["code"] == ".."
    if answers["workload"] == "pytorch":
        build = {"path": "environment", "dockerfile_path": "Dockerfile"}
        assert job["environment"]["build"] == build
        assert job["distribution"]["type"] == "pytorch"
    else:
        image = job["environment"]["image"]
        assert image.endswith(f"python:{answers['python_version']}-slim-bookworm")
    assert "uv sync --locked --no-dev" in job["command"]
    assert f"python -m {PACKAGE} train" in job["command"]
    assert "${{outputs.model}}" in job["command"]
    assert job["outputs"]["model"]["type"] == "uri_folder"
    if answers["training_cluster"]:
        config = yaml.safe_load((project / "infra" / "Pulumi.dev.yaml").read_text())["config"]
        cluster = next(v for k, v in config.items() if k.endswith(":clusterName"))
        assert job["compute"] == f"azureml:{cluster}"
        # Only a distributed job sizes itself on the cluster: its node count.
        expected = {"instance_count"} if answers["workload"] == "pytorch" else set()
        assert set(job.get("resources", {})) == expected
    else:
        assert "compute" not in job
        assert job["resources"]["instance_type"].startswith("Standard_")
    deployment = project / "aml" / "online-deployment.yml"
    assert deployment.exists() == (answers["serving"] == "aml-endpoint")
    if deployment.exists():
        spec = yaml.safe_load(deployment.read_text())
        port = int(re.findall(r"^EXPOSE (\d+)$", (project / "Dockerfile").read_text(), re.M)[0])
        routes = spec["environment"]["inference_config"]
        assert routes["liveness_route"] == {"port": port, "path": "/health"}
        assert routes["readiness_route"] == {"port": port, "path": "/health"}
        assert routes["scoring_route"] == {"port": port, "path": "/predict"}


# ---------------------------------------------------------------- pre-commit


def test_pre_commit_hooks_are_local_and_pinned_by_the_lock(projects: dict[str, Path]) -> None:
    project = projects["github-container-apps"]
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    dev = tomllib.loads((project / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    dev_names = {re.split(r"[<>=!~ \[]", requirement)[0] for requirement in dev}
    hook_ids = set()
    for repo in config["repos"]:
        assert repo["repo"] == "local", "remote hook repositories cannot be fetched offline"
        for hook in repo["hooks"]:
            hook_ids.add(hook["id"])
            assert hook["language"] == "system"
            assert hook["entry"].startswith("uv run --frozen "), hook["entry"]
    assert {
        "ruff-check", "ruff-format", "nbstripout", "detect-secrets", "check-yaml", "check-toml",
        "end-of-file-fixer", "check-added-large-files",
    } <= hook_ids  # fmt: skip
    assert {"ruff", "nbstripout", "detect-secrets", "pre-commit", "pre-commit-hooks"} <= dev_names


# ---------------------------------------------------------------- slow: checkov, pre-commit


#: What checkov reads in a generated project: the images and the CI definitions.
CHECKOV_INPUTS = ("Dockerfile", "aml/environment/Dockerfile", "aml/batch-environment/Dockerfile",
                  ".github", "azure-pipelines.yml", "decommission-pipeline.yml")  # fmt: skip


@pytest.mark.slow
def test_checkov_finds_nothing(projects: dict[str, Path], tmp_path: Path) -> None:
    """checkov runs in its own environment (it pins old versions of common packages).

    One run scans every variant, each copied into its own folder of one tree: checkov's
    start-up is most of its time here. Findings name their variant by their path.
    """
    tree = tmp_path / "variants"
    dockerfiles = 0
    for variant, project in projects.items():
        for name in CHECKOV_INPUTS:
            source, target = project / name, tree / variant / name
            if source.is_dir():
                shutil.copytree(source, target)
            elif source.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                dockerfiles += name.endswith("Dockerfile")
    env = {**uv_cache_env(), "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "NO_COLOR": "1"}
    result = completed(
        [
            find_uv(), "tool", "run", "--from", "checkov", "checkov", "--directory", str(tree),
            "--framework", "dockerfile", "github_actions", "azure_pipelines",
            "--skip-download", "--output", "json", "--quiet",
        ],
        tmp_path,
        env=env,
        timeout=900,
    )  # fmt: skip
    reports = json.loads(result.stdout)
    reports = {report["check_type"]: report for report in
               (reports if isinstance(reports, list) else [reports])}  # fmt: skip
    assert set(reports) == {"dockerfile", "github_actions", "azure_pipelines"}
    failed = [
        f"{report['check_type']}: {check['check_id']} {check['file_path']}"
        for report in reports.values()
        for check in report["results"].get("failed_checks", [])
    ]
    assert result.returncode == 0 or failed, result.stderr[-2000:]
    assert failed == []
    for report in reports.values():
        assert report["summary"]["parsing_errors"] == 0, report["check_type"]
        assert report["summary"]["passed"] > 0, report["check_type"]
    assert reports["dockerfile"]["summary"]["resource_count"] == dockerfiles


def run_pre_commit(project: Path, home: Path, extra_env: dict[str, str] | None = None) -> None:
    env = {**uv_env(), **uv_cache_env(), "PRE_COMMIT_HOME": str(home)}
    # The hooks call `uv run`: uv must be on PATH, as it is for the project's users.
    env["PATH"] = f"{Path(find_uv()).parent}{os.pathsep}{os.environ['PATH']}"
    env |= extra_env or {}
    command = [find_uv(), "run", "--frozen", "pre-commit", "run", "--all-files"]
    result = completed([*command, "--show-diff-on-failure", "--color", "never"], project, env=env)
    assert_clean(result, "pre-commit run --all-files")
    for hook in ("ruff check", "ruff format", "secret scan", "check YAML", "check TOML"):
        assert re.search(rf"^{re.escape(hook)}[^\n]*\.Passed$", result.stdout, re.M), result.stdout


@pytest.mark.slow
@SHARES_SYNCED_PROJECT
def test_pre_commit_passes_on_a_fresh_github_project(
    synced_project: NewProjectResult, tmp_path: Path
) -> None:
    assert synced_project.answers["ci_provider"] == "github"
    run_pre_commit(synced_project.path, tmp_path / "pre-commit")


def test_shlex_entries_name_installed_tools(projects: dict[str, Path]) -> None:
    """Every hook entry names a console script of a dev-group package (no typo'd tools)."""
    config = yaml.safe_load((projects["no-ci"] / ".pre-commit-config.yaml").read_text())
    scripts = {
        "ruff", "nbstripout", "detect-secrets-hook", "check-yaml", "check-toml", "check-json",
        "end-of-file-fixer", "trailing-whitespace-fixer", "check-merge-conflict",
        "check-added-large-files",
    }  # fmt: skip
    for repo in config["repos"]:
        for hook in repo["hooks"]:
            assert shlex.split(hook["entry"])[3] in scripts, hook["entry"]

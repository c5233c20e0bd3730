"""Every Azure ML YAML a generated project can hold loads with Microsoft's own loaders.

azure-ai-ml's ``load_job``, ``load_data``, ``load_environment``, ``load_online_deployment``, ...
are what ``az ml ... create --file`` runs before it sends anything, so a file they refuse would
fail in the project's CI after the Azure login. azure-ai-ml cannot be installed next to
pulumi (their opentelemetry pins clash): tests/azureml_loader.py runs in an environment of its
own made by uv, once for every file of every answer set below. On top of loading, the checks
that matter for a deployment: the jobs run on the cluster Pulumi creates, a PyTorch job spans
no more nodes than the cluster has, the jobs read the data asset version data/manifest.json
records, and they train in the environment aml/environment.yml describes.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from mlstart.core.tools import find_uv
from mlstart_infra.project import find_project, read_stack_config

from tests.conftest import REPO_ROOT, render_project, uv_env
from tests.ship_helpers import completed, tool, uv_cache_env

#: The azure-ai-ml the loader script runs with (pinned: its schemas are what is checked).
AZURE_AI_ML = "azure-ai-ml==1.35.2"
LOADER = Path(__file__).with_name("azureml_loader.py")
CUDA_BASE_IMAGE: str = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))[
    "cuda_base_image"
]["default"]
#: Answer sets that together hold every variant of every Azure ML YAML: both workloads, both
#: tasks, a training cluster or serverless compute, the managed online endpoint, and batch
#: scoring on the cluster.
ANSWER_SETS: dict[str, dict[str, Any]] = {
    "sklearn-classification-cluster-endpoint": {
        "workload": "sklearn", "task": "classification", "training_cluster": True,
        "serving": "aml-endpoint", "batch_scoring": True,
    },
    "sklearn-regression-serverless": {
        "workload": "sklearn", "task": "regression", "training_cluster": False,
        "serving": "container-apps",
    },
    "pytorch-classification-cluster-endpoint": {
        "workload": "pytorch", "task": "classification", "training_cluster": True,
        "cluster_max_nodes": 3, "serving": "aml-endpoint", "batch_scoring": True,
    },
    "pytorch-regression-serverless": {
        "workload": "pytorch", "task": "regression", "training_cluster": False,
        "serving": "none",
    },
}  # fmt: skip
#: Deliberately broken copies of rendered files, and what the loaders must say about them.
BROKEN: dict[str, tuple[str, str, str, str]] = {
    # name: (answer set, file under aml/, text replaced, replacement) -> error must name ...
    "unknown-key": ("sklearn-classification-cluster-endpoint", "train-job.yml",
                    "\ncompute: ", "\ncomputer: "),
    "undeclared-input": ("pytorch-classification-cluster-endpoint", "train-job.yml",
                         "${{inputs.data}}", "${{inputs.dataset}}"),
    "bad-distribution": ("pytorch-classification-cluster-endpoint", "train-job.yml",
                         "process_count_per_instance: 1", "process_count_per_instance: one"),
    "missing-build-context": ("pytorch-regression-serverless", "environment.yml",
                              "path: environment", "path: no-such-folder"),
    "bad-data-type": ("sklearn-regression-serverless", "data.yml",
                      "type: uri_file", "type: uri_files"),
    "bad-output-action": ("sklearn-classification-cluster-endpoint", "batch-deployment.yml",
                          "output_action: summary_only", "output_action: append_rows"),
    "missing-scoring-script": ("pytorch-classification-cluster-endpoint", "batch-deployment.yml",
                               "/serving/batch.py", "/serving/no_such_script.py"),
    "long-endpoint-name": ("sklearn-classification-cluster-endpoint", "batch-endpoint.yml",
                           "\nname: batch-", "\nname: batch-and-a-name-longer-than-azure-allows-"),
}  # fmt: skip
#: What each broken file's error must mention.
BROKEN_ERRORS = {
    "unknown-key": "computer",
    "undeclared-input": "inputs.dataset",
    "bad-distribution": "process_count_per_instance",
    "missing-build-context": "no-such-folder",
    "bad-data-type": "Must be one of: uri_file, uri_folder",
    "bad-output-action": "Value 'append_rows' passed is not in set",
    "missing-scoring-script": "Failed to open scoring script",
    "long-endpoint-name": "at most 32 characters",
    # A new kind of Azure ML file must get its loader in the script, not pass unchecked.
    "unknown-schema": "no azure-ai-ml loader",
}


def aml_files(project: Path) -> list[Path]:
    """Every YAML file under the project's aml/ folder, nested ones included."""
    return sorted(p for p in (project / "aml").rglob("*") if p.suffix in {".yml", ".yaml"})


def break_file(source: Path, target: Path, old: str, new: str) -> None:
    """Write ``source`` with ``old`` replaced by ``new`` to ``target`` (``old`` must occur)."""
    text = source.read_text(encoding="utf-8")
    assert old in text, f"{source} no longer holds {old!r}: update BROKEN"
    target.write_text(text.replace(old, new), encoding="utf-8")


#: The module's fixtures render and load every answer set once; ``--dist loadgroup`` keeps its
#: tests on one xdist worker so that happens once, not once per worker.
pytestmark = pytest.mark.xdist_group("azureml_loader")


def run_loader(files: list[Path], cwd: Path) -> tuple[int, dict[str, Any], str]:
    """Run the loader script on ``files`` in azure-ai-ml's own environment (one process)."""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    command = [find_uv(), "run", "--no-project", "--python", python, "--with", AZURE_AI_ML,
               "python", str(LOADER), *map(str, files)]  # fmt: skip
    env = {**uv_env(), **uv_cache_env()}
    result = completed(command, cwd, env=env, timeout=600)
    try:
        report: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"the loader printed no report (exit {result.returncode}):\n{result.stderr}")
    return result.returncode, report, result.stderr


@pytest.fixture(scope="module")
def projects(plain_template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One rendered project per answer set (from a plain copy of the template: no git clone)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLSTART_TEMPLATE", str(plain_template))
        return {
            name: render_project(
                tmp_path_factory.mktemp(name), "Aml Check", **{"ci_provider": "github", **answers}
            )
            for name, answers in ANSWER_SETS.items()
        }


@pytest.fixture(scope="module")
def broken(projects: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The broken files, each in a copy of its project's aml/ folder (relative paths hold)."""
    files = {}
    for name, (answer_set, filename, old, new) in BROKEN.items():
        copy = tmp_path_factory.mktemp(f"broken-{name}") / "project"
        shutil.copytree(projects[answer_set], copy)
        target = copy / "aml" / f"broken-{filename}"
        break_file(copy / "aml" / filename, target, old, new)
        files[name] = target
    unknown = tmp_path_factory.mktemp("broken-unknown-schema") / "unknown.yml"
    unknown.write_text("$schema: https://example.com/unknown.schema.json\nname: x\n", "utf-8")
    files["unknown-schema"] = unknown
    return files


@pytest.fixture(scope="module")
def loaded(
    projects: dict[str, Path], broken: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[int, dict[str, Any], str]:
    """The loader's exit code, report (by absolute file name) and stderr, for every file."""
    files = [path for project in projects.values() for path in aml_files(project)]
    return run_loader([*files, *broken.values()], tmp_path_factory.mktemp("loader"))


def result_for(loaded: tuple[int, dict[str, Any], str], path: Path) -> dict[str, Any]:
    result: dict[str, Any] = loaded[1][str(path)]
    return result


def stack_value(project: Path, key: str) -> str:
    value = read_stack_config(find_project(project, python_program=False), "dev").get(key)
    assert value is not None, f"{key} is not in {project}/infra/Pulumi.dev.yaml"
    return value


def manifest_sha256(project: Path) -> str:
    manifest = json.loads((project / "data" / "manifest.json").read_text(encoding="utf-8"))
    return str(manifest["files"]["raw/diabetes.csv"]["sha256"])


def jobs_of(loaded: tuple[int, dict[str, Any], str], project: Path) -> dict[str, dict[str, Any]]:
    """The loaded jobs of a project (train and, where the project has one, sweep)."""
    results = {path.name: result_for(loaded, path) for path in aml_files(project)}
    return {
        name: r for name, r in results.items() if r.get("schema", "").endswith("Job.schema.json")
    }


# ---------------------------------------------------------------- loading


def test_every_azure_ml_yaml_loads_with_its_loader(
    projects: dict[str, Path], loaded: tuple[int, dict[str, Any], str]
) -> None:
    failures = [
        f"{path.relative_to(project.parent)}: {result_for(loaded, path).get('error')}"
        for project in projects.values()
        for path in aml_files(project)
        if not result_for(loaded, path)["ok"]
    ]
    assert failures == [], "\n".join(failures) + "\n" + loaded[2][-3000:]
    schemas = {result_for(loaded, p)["schema"] for pr in projects.values() for p in aml_files(pr)}
    assert {
        "commandJob.schema.json", "data.schema.json", "environment.schema.json",
        "managedOnlineDeployment.schema.json", "batchEndpoint.schema.json",
        "batchDeployment.schema.json",
    } <= schemas  # fmt: skip


def test_the_matrix_holds_every_variant_of_every_file(projects: dict[str, Path]) -> None:
    """Each answer that changes an Azure ML file is taken both ways."""
    for question in ("workload", "task", "training_cluster"):
        values = {answers[question] for answers in ANSWER_SETS.values()}
        assert len(values) == 2, question
    assert {a["serving"] == "aml-endpoint" for a in ANSWER_SETS.values()} == {True, False}
    batch = {a["workload"] for a in ANSWER_SETS.values() if a.get("batch_scoring")}
    assert batch == {"sklearn", "pytorch"}, "batch scoring's image differs by workload"
    pytorch = projects["pytorch-classification-cluster-endpoint"]
    assert (pytorch / "aml" / "environment" / "Dockerfile").is_file()


@pytest.mark.parametrize("case", list(BROKEN_ERRORS))
def test_a_broken_file_fails_to_load(
    case: str, broken: dict[str, Path], loaded: tuple[int, dict[str, Any], str]
) -> None:
    result = result_for(loaded, broken[case])
    assert result["ok"] is False, f"{case} loaded: {result}"
    assert BROKEN_ERRORS[case] in result["error"], result["error"]
    assert loaded[0] == 1  # and the script's exit code says so


# ---------------------------------------------------------------- what deployment needs


@pytest.mark.parametrize("answer_set", list(ANSWER_SETS))
def test_jobs_run_on_the_cluster_pulumi_creates(
    answer_set: str, projects: dict[str, Path], loaded: tuple[int, dict[str, Any], str]
) -> None:
    project = projects[answer_set]
    jobs = jobs_of(loaded, project)
    assert "train-job.yml" in jobs
    for name, job in jobs.items():
        if ANSWER_SETS[answer_set]["training_cluster"]:
            assert job["compute"] == stack_value(project, "clusterName"), name
        else:
            assert job["compute"] is None and job["instance_type"].startswith("Standard_"), name


@pytest.mark.parametrize("answer_set", list(ANSWER_SETS))
def test_pytorch_trains_distributed_within_the_cluster_and_sklearn_on_one_node(
    answer_set: str, projects: dict[str, Path], loaded: tuple[int, dict[str, Any], str]
) -> None:
    project = projects[answer_set]
    answers = ANSWER_SETS[answer_set]
    job = jobs_of(loaded, project)["train-job.yml"]
    if answers["workload"] == "pytorch":
        assert job["distribution"] == {"type": "pytorch", "process_count_per_instance": 1}
        if answers["training_cluster"]:
            max_nodes = int(stack_value(project, "clusterMaxNodes"))
            assert 1 <= job["instance_count"] <= max_nodes
            assert job["instance_count"] == answers["cluster_max_nodes"]
        else:
            assert job["instance_count"] == 1
            assert job["instance_type"].startswith("Standard_NC"), "a GPU size"
        # Only rank 0 has the model to copy to the output.
        assert re.search(r'\[ "\$\{RANK:-0\}" != 0 \] \|\| cp models/', job["command"])
    else:
        assert job["distribution"] is None
        assert job["instance_count"] in (None, 1)


@pytest.mark.parametrize("answer_set", list(ANSWER_SETS))
def test_jobs_read_the_data_asset_version_the_manifest_records(
    answer_set: str, projects: dict[str, Path], loaded: tuple[int, dict[str, Any], str]
) -> None:
    project = projects[answer_set]
    digest = manifest_sha256(project)
    asset = result_for(loaded, project / "aml" / "data.yml")
    assert (asset["version"], asset["tags"]["sha256"]) == (digest[:12], digest)
    assert asset["type"] == "uri_file"
    assert Path(asset["path"]) == (project / "data" / "raw" / "diabetes.csv").resolve()
    for name, job in jobs_of(loaded, project).items():
        # The loader gives an asset reference without its "azureml:" prefix.
        assert job["inputs"]["data"] == {
            "type": "uri_file",
            "path": f"{asset['name']}:{asset['version']}",
        }, name
        assert "cp ${{inputs.data}} data/raw/diabetes.csv" in job["command"], name


@pytest.mark.parametrize("answer_set", list(ANSWER_SETS))
def test_jobs_train_in_the_environment_of_environment_yml(
    answer_set: str, projects: dict[str, Path], loaded: tuple[int, dict[str, Any], str]
) -> None:
    project = projects[answer_set]
    environment = result_for(loaded, project / "aml" / "environment.yml")
    described = {key: environment[key] for key in ("image", "build_path", "dockerfile_path")}
    python = yaml.safe_load((project / ".copier-answers.yml").read_text())["python_version"]
    if ANSWER_SETS[answer_set]["workload"] == "pytorch":
        context = project / "aml" / "environment"
        assert described == {"image": None, "build_path": str(context.resolve()),
                             "dockerfile_path": "Dockerfile"}  # fmt: skip
        dockerfile = (context / "Dockerfile").read_text(encoding="utf-8")
        # The one CUDA base of the pytorch workload's images, from copier.yml.
        serving = (project / "Dockerfile").read_text(encoding="utf-8")
        image, tag = CUDA_BASE_IMAGE.split(":")
        for text in (dockerfile, serving):
            assert f"ARG CUDA_IMAGE={image}\nARG CUDA_TAG={tag}\n" in text
        assert f"uv python install {python}" in dockerfile
    else:
        assert described == {"image": f"docker.io/library/python:{python}-slim-bookworm",
                             "build_path": None, "dockerfile_path": None}  # fmt: skip
    for name, job in jobs_of(loaded, project).items():
        assert job["environment"] == described, name


@pytest.mark.parametrize(
    "answer_set", [name for name, answers in ANSWER_SETS.items() if answers.get("batch_scoring")]
)
def test_batch_scoring_runs_the_registered_model_on_the_cluster(
    answer_set: str, projects: dict[str, Path], loaded: tuple[int, dict[str, Any], str]
) -> None:
    project = projects[answer_set]
    aml = project / "aml"
    endpoint = result_for(loaded, aml / "batch-endpoint.yml")["dict"]
    deployment = result_for(loaded, aml / "batch-deployment.yml")
    assert deployment["class"] == "ModelBatchDeployment"
    spec = deployment["dict"]
    assert spec["endpoint_name"] == endpoint["name"]
    assert endpoint["auth_mode"] == "aad_token"
    assert spec["compute"] == f"azureml:{stack_value(project, 'clusterName')}"
    assert 1 <= spec["resources"]["instance_count"] <= int(stack_value(project, "clusterMaxNodes"))
    slug = yaml.safe_load((project / ".copier-answers.yml").read_text())["project_slug"]
    assert spec["model"] == f"azureml:{slug}@latest"  # the CI sets the champion's version
    package = slug.replace("-", "_")
    code = spec["code_configuration"]
    script = aml / code["code"] / code["scoring_script"]
    assert script.resolve() == (project / "src" / package / "serving" / "batch.py").resolve()
    assert Path(spec["environment"]["build"]["path"]) == (aml / "batch-environment").resolve()
    assert spec["settings"]["output_action"] == "summary_only"
    assert spec["settings"]["error_threshold"] == 0, "a file that fails its checks fails the job"
    for tags in (endpoint["tags"], spec["tags"]):
        assert set(tags) == {"project", "owner", "environment", "decommission-by"}


def test_the_batch_image_installs_the_lock_and_is_hadolint_clean(projects: dict[str, Path]) -> None:
    for name, answers in ANSWER_SETS.items():
        if not answers.get("batch_scoring"):
            continue
        context = projects[name] / "aml" / "batch-environment"
        result = completed([tool("hadolint"), "--no-color", "Dockerfile"], context)
        assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr
        text = (context / "Dockerfile").read_text(encoding="utf-8")
        # The lock's versions, also where azureml-core's own bounds disagree with them.
        for option in ("--requirement", "--override"):
            assert f"{option} /tmp/requirements.txt" in text, option
        user = re.findall(r"^USER (\S+)$", text, flags=re.MULTILINE)
        assert user and all(part.isdigit() and int(part) > 0 for part in user[-1].split(":"))
        ignored = (projects[name] / ".gitignore").read_text(encoding="utf-8").splitlines()
        assert "aml/batch-environment/requirements.txt" in ignored, "written from the lock"


def test_the_training_image_is_hadolint_clean_and_runs_as_a_user(
    projects: dict[str, Path],
) -> None:
    context = projects["pytorch-classification-cluster-endpoint"] / "aml" / "environment"
    result = completed([tool("hadolint"), "--no-color", "Dockerfile"], context)
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr
    text = (context / "Dockerfile").read_text(encoding="utf-8")
    user = re.findall(r"^USER (\S+)$", text, flags=re.MULTILINE)
    assert user and all(part.isdigit() and int(part) > 0 for part in user[-1].split(":"))
    assert yaml.safe_load((context.parent / "environment.yml").read_text())["build"]["path"] == (
        context.name
    )

"""Render the template's choices, read from copier.yml, and check the exact file set.

Every choice of every question is rendered at least once; the questions whose choices change
which files exist together (CI provider, serving, data versioning) are rendered in their full
product. A new choice in copier.yml extends the matrix by itself.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from mlstart.core.new import new_project

from tests.conftest import REPO_ROOT

#: Questions whose answers interact in the file set: rendered in their full product.
INTERACTING = ("ci_provider", "serving", "data_versioning")
#: Answers a choice needs to be valid (a public IP needs the one range allowed SSH).
NEEDS = {
    ("workstation_public_ip", True): {"ssh_allowed_cidr": "203.0.113.7/32"},
    ("batch_scoring", True): {"training_cluster": True},  # batch jobs run on the cluster
}


def template_choices() -> dict[str, list[Any]]:
    """Each asked question with a closed set of answers (choices or yes/no), from copier.yml."""
    spec = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    choices: dict[str, list[Any]] = {}
    for name, question in spec.items():
        if name.startswith("_") or not isinstance(question, dict) or question.get("when") is False:
            continue
        if "choices" in question:
            options = question["choices"]
            choices[name] = list(options.values() if isinstance(options, dict) else options)
        elif question.get("type") == "bool":
            choices[name] = [True, False]
    return choices


def asked(question: str, answers: dict[str, Any]) -> bool:
    """Whether copier asks ``question`` given the earlier ``answers`` (its ``when``)."""
    import jinja2

    spec = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    when = spec[question].get("when", True) if isinstance(spec[question], dict) else True
    if isinstance(when, bool):
        return when
    rendered = jinja2.Environment().from_string(str(when)).render(**answers)
    return rendered.strip().lower() not in {"", "false", "no", "n", "off", "0", "none"}


#: Free-text answers that change the file set, cycled through the rounds like a choice:
#: more than one environment brings the promotion workflow (GitHub) or stages (Azure DevOps).
CYCLED = {"environments": ("dev,prod", "dev", "dev,staging,prod")}


def combinations() -> list[dict[str, Any]]:
    """The full product of the interacting questions; every other choice at least once.

    A question asked only for some earlier answers (its ``when``) takes its next choice only
    in the rounds where it is asked, so each of its choices is rendered where it matters.
    """
    choices = template_choices()
    product = list(itertools.product(*(choices[name] for name in INTERACTING)))
    others = {name: itertools.cycle(values) for name, values in choices.items()
              if name not in INTERACTING}  # fmt: skip
    others |= {name: itertools.cycle(values) for name, values in CYCLED.items()}
    rounds = max(len(product), *(len(v) for k, v in choices.items() if k not in INTERACTING))
    result = []
    for index in range(rounds):
        answers = dict(zip(INTERACTING, product[index % len(product)], strict=True))
        for name, values in others.items():
            if asked(name, answers):
                answers[name] = next(values)
        for (name, value), extra in NEEDS.items():
            if answers.get(name) == value:
                answers |= extra
        result.append(answers)
    return result


COMBINATIONS = combinations()
LEFTOVER_JINJA = re.compile(r"\{\{|\}\}|\{%|%\}")
#: A Makefile rule's target (variables are upper-case; `.PHONY` starts with a dot).
MAKE_TARGET = re.compile(r"^([a-z][a-z0-9-]*):(?!=)", re.MULTILINE)
#: The lines `make help` lists: the Makefile's own help rule greps for this.
MAKE_HELP_LINE = re.compile(r"^[a-z-]+:.*## ", re.MULTILINE)
#: GitHub Actions expressions are meant to survive rendering.
GITHUB_EXPRESSION = re.compile(r"\$\{\{[^{}]*\}\}")


def expected_files(answers: dict[str, Any], package: str) -> set[str]:
    """The exact set of files a project with these answers must contain."""
    files = {
        ".copier-answers.yml",
        ".gitignore",
        ".mlstart-uv",  # written by `mlstart new` (the uv it used), git-ignored
        ".python-version",
        "LICENSE",
        "Makefile",
        "README.md",
        "data/manifest.json",
        "docs/index.md",
        "docs/infrastructure.md",
        "mkdocs.yml",
        "notebooks/01-explore.ipynb",
        "notebooks/README.md",
        "params.yaml",
        "pyproject.toml",
        "reports/.gitkeep",
        "tests/conftest.py",
        "tests/test_data.py",
        "tests/test_docs_site.py",
        "tests/test_model_quality.py",
        "tests/test_monitor.py",
        "tests/test_pipeline.py",
        "tests/test_promotion.py",
        "tests/test_reproducibility.py",
        "tests/test_retraining.py",
        "tests/test_scoring.py",
        "tests/test_tracking.py",
    }
    files |= {
        f"src/{package}/{module}.py"
        for module in (
            "__init__", "__main__", "config", "data", "docs_site", "metrics", "model",
            "model_card", "evaluate", "monitor", "plots", "predict", "promotion",
            "reproducibility", "retraining", "schema", "scoring", "tracking", "train",
        )
    }  # fmt: skip
    files |= {
        "infra/Pulumi.yaml",
        "infra/__main__.py",
        "infra/requirements.txt",
        "infra/tests/conftest.py",
        "infra/tests/mocks.py",
        "infra/tests/test_infra.py",
    }
    # One stack config per environment (copier.yml's default is the one stack dev).
    files |= {
        f"infra/Pulumi.{stack}.yaml" for stack in answers.get("environments", "dev").split(",")
    }
    # infra/components is rendered from mlstart_infra.components, the single source.
    files |= {
        f"infra/components/{module.name}"
        for module in (REPO_ROOT / "infra" / "mlstart_infra" / "components").glob("*.py")
    }
    # infra/policy-pack: the pack's own files and its copy of mlstart's policies (symlinks).
    pack = REPO_ROOT / "template" / "infra" / "policy-pack"
    files |= {
        f"infra/policy-pack/{path.relative_to(pack).as_posix()}"
        for path in pack.rglob("*")
        if path.is_file()
    }
    if answers["data_versioning"] == "dvc":
        files |= {"dvc.yaml", ".dvc/config", ".dvc/.gitignore", ".dvcignore", "tests/test_dvc.py"}
    # Serving, container, pre-commit, dev container and the Azure ML job.
    files |= {
        ".dockerignore",
        ".devcontainer/devcontainer.json",
        ".pre-commit-config.yaml",
        "Dockerfile",
        "aml/train-job.yml",
        "tests/test_serving.py",
    }
    # The training job's data asset and environment (built from aml/environment/ for PyTorch).
    files |= {"aml/data.yml", "aml/environment.yml", "tests/test_aml_data_asset.py"}
    if answers["workload"] == "pytorch":
        files.add("aml/environment/Dockerfile")
    files |= {
        f"src/{package}/serving/{module}.py"
        for module in ("__init__", "app", "batch", "score", "service")
    }
    if answers["serving"] == "aml-endpoint":
        files.add("aml/online-deployment.yml")
    # Batch scoring: the endpoint, its deployment on the cluster and the deployment's image.
    if answers["batch_scoring"]:
        files |= {"aml/batch-endpoint.yml", "aml/batch-deployment.yml",
                  "aml/batch-environment/Dockerfile"}  # fmt: skip
    # Hyperparameter search (scikit-learn only): local sweep, its tests, the Azure ML sweep job.
    if answers["workload"] == "sklearn":
        files |= {"aml/sweep-job.yml", f"src/{package}/sweep.py", "tests/test_sweep.py"}
    # PyTorch: the network module and its device, determinism and DDP tests.
    if answers["workload"] == "pytorch":
        files |= {f"src/{package}/network.py", "tests/test_network.py", "tests/test_distributed.py"}
    if answers["ci_provider"] == "github":
        files |= {
            f".github/workflows/{name}.yml"
            for name in ("ci", "train", "infra", "decommission", "plan-diff", "monitor")
        }
        if answers["serving"] != "none":
            files.add(".github/workflows/deploy.yml")
        if answers["batch_scoring"]:
            files.add(".github/workflows/batch-score.yml")
        if "," in answers["environments"]:
            files.add(".github/workflows/promote.yml")
    elif answers["ci_provider"] == "azure-devops":
        files |= {"azure-pipelines.yml", "decommission-pipeline.yml"}
    return files


def test_the_matrix_takes_every_choice_at_least_once() -> None:
    """Every choice, in a round where its question is asked."""
    for name, values in (template_choices() | CYCLED).items():
        assert {c[name] for c in COMBINATIONS if name in c} == set(values), name
    interacting = {tuple(c[name] for name in INTERACTING) for c in COMBINATIONS}
    assert len(interacting) == len(list(itertools.product(
        *(template_choices()[name] for name in INTERACTING))))  # fmt: skip


@pytest.mark.parametrize(
    "answers", COMBINATIONS, ids=["-".join(map(str, c.values())) for c in COMBINATIONS]
)
def test_render_combination(
    answers: dict[str, Any],
    plain_template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLSTART_TEMPLATE", str(plain_template))
    result = new_project(
        "Matrix Project", output_dir=tmp_path, data=answers, defaults=True, git=False, lock=False
    )
    files = {
        path.relative_to(result.path).as_posix()
        for path in result.path.rglob("*")
        if path.is_file()
    }
    assert files == expected_files(answers, "matrix_project")
    for relative in files:
        text = (result.path / relative).read_text(encoding="utf-8")
        leftover = LEFTOVER_JINJA.search(GITHUB_EXPRESSION.sub("", text))
        assert leftover is None, f"{relative}: {text[max(0, leftover.start() - 60) :][:120]!r}"
        assert text.endswith("\n") or text == "", f"{relative} does not end with a newline"
        assert not text.endswith("\n\n"), f"{relative} ends with a blank line"
    for key, value in answers.items():
        if key in result.answers:  # answers to questions not asked are not recorded
            assert result.answers[key] == value
    makefile = (result.path / "Makefile").read_text(encoding="utf-8")
    assert {"help", "setup", "train", "predict", "lab"} <= set(MAKE_TARGET.findall(makefile))
    assert_every_make_target_is_phony_and_helped(makefile)


def assert_every_make_target_is_phony_and_helped(makefile: str) -> None:
    """Every target is in `.PHONY` (none is a file) and has a line in `make help`."""
    targets = MAKE_TARGET.findall(makefile)
    assert len(targets) == len(set(targets)), "a target is defined twice"
    phony = re.findall(r"^\.PHONY:(.*)$", makefile, re.MULTILINE)
    assert len(phony) == 1 and sorted(phony[0].split()) == sorted(targets)
    helped = [line.split(":")[0] for line in MAKE_HELP_LINE.findall(makefile)]
    assert sorted(helped) == sorted(targets), "each target needs `target:  ## what it does`"


def test_the_make_target_check_finds_a_missing_phony_or_help_line() -> None:
    makefile = "UV := uv\n.PHONY: help lab\nhelp:  ## Show\n\ttrue\nlab: help  ## Lab\n\ttrue\n"
    assert_every_make_target_is_phony_and_helped(makefile)
    not_phony = makefile + "serve:  ## Serve\n\ttrue\n"
    not_helped = makefile.replace("help lab", "help lab x") + "x: lab\n\ttrue\n"
    for broken in (not_phony, not_helped):
        with pytest.raises(AssertionError):
            assert_every_make_target_is_phony_and_helped(broken)

"""``mlstart doctor``: does the CI identity the infra creates match the repository and CI files?

Three things must agree for CI to log in as the stack's CI identity (docs/ci-identity.md):
the stack config's ``ciRepository`` (whose runs the federated credential trusts), the git
remote ``origin`` the runs come from, and the CI files (the variables they log in with, and
the environment or service connection the credential names). Each disagreement is one line.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

#: What the program exports for CI, and the variable each CI file logs in with.
CI_OUTPUTS = {
    "ci_client_id": "AZURE_CLIENT_ID",
    "ci_tenant_id": "AZURE_TENANT_ID",
    "ci_subscription_id": "AZURE_SUBSCRIPTION_ID",
}
#: The workflows whose jobs log in as the CI identity (the others use the deployer's).
CI_WORKFLOWS = ("train.yml", "batch-score.yml", "deploy.yml")
HINT = "see the docs, section CI identity"
_GITHUB_REMOTE = re.compile(
    r"^(?:https://(?:[^@/]+@)?github\.com/|git@github\.com:|ssh://git@github\.com/)"
    r"(?P<owner>[^/]+)/(?P<name>[^/]+?)(?:\.git)?/?$"
)
_AZURE_DEVOPS_REMOTE = re.compile(
    r"^(?:https://(?:[^@/]+@)?dev\.azure\.com/(?P<org>[^/]+)/(?P<project>[^/]+)/_git/"
    r"|(?:git@ssh\.dev\.azure\.com|[^@]+@vs-ssh\.visualstudio\.com):v3/(?P<org2>[^/]+)/"
    r"(?P<project2>[^/]+)/"
    r"|https://(?:[^@/]+@)?(?P<org3>[^./]+)\.visualstudio\.com/(?:DefaultCollection/)?"
    r"(?P<project3>[^/]+)/_git/)[^/]+?/?$"
)


def remote_repository(url: str, provider: str) -> str | None:
    """``owner/name`` (GitHub) or ``organization/project`` (Azure DevOps) of a git remote URL.

    Args:
        url: The remote's URL (HTTPS, SSH or scp-like).
        provider: ``github`` or ``azure-devops``.

    Returns:
        The repository, or None when the URL is not one of that provider's forms.
    """
    url = url.strip()
    if provider == "github":
        match = _GITHUB_REMOTE.match(url)
        return f"{match['owner']}/{match['name']}" if match else None
    match = _AZURE_DEVOPS_REMOTE.match(url)
    if not match:
        return None
    org = match["org"] or match["org2"] or match["org3"]
    project = match["project"] or match["project2"] or match["project3"]
    return f"{org}/{project}".replace("%20", " ")


def ci_identity_findings(root: Path, config: Any, stack: str) -> list[str]:
    """Every way the stack config, the git remote and the CI files disagree, one line each.

    Args:
        root: The generated project.
        config: The stack's config (``mlstart_infra.project.StackConfig``).
        stack: The stack (its GitHub environment has the same name).

    Returns:
        Nothing when they agree, or when the project has no CI (``ciProvider: none``).
    """
    provider = config.get("ciProvider") or ""
    files = _ci_files(root)
    if not provider:
        return (
            [f"infra/Pulumi.{stack}.yaml has no ciProvider/ciRepository: the infra creates no "
             f"CI identity for {', '.join(p.name for p in files)} ({HINT})"]
            if files else []
        )  # fmt: skip
    if provider == "none":
        return []
    findings = []
    repository = config.get("ciRepository") or ""
    if not repository:
        findings.append(f"infra/Pulumi.{stack}.yaml does not set ciRepository ({HINT})")
    origin = _origin(root)
    if repository and origin:
        found = remote_repository(origin, provider)
        if found is None:
            findings.append(
                f"git remote origin {origin} is not a {_label(provider)} repository URL"
            )
        elif found.lower() != repository.lower():
            findings.append(
                f"ciRepository is {repository} but git remote origin is {found}: CI runs from "
                f"{found} cannot log in (pulumi config set ciRepository {found} in infra/)"
            )
    program = _read(root / "infra" / "__main__.py")
    missing = [output for output in CI_OUTPUTS if f'"{output}"' not in program]
    if missing:
        findings.append(f"infra/__main__.py does not export {', '.join(missing)}")
    if provider == "github":
        findings += _github_findings(root, stack)
    else:
        connection = f"{config.project}-{stack}"
        pipeline = _read(root / "azure-pipelines.yml")
        if pipeline and connection not in pipeline:
            findings.append(
                f"azure-pipelines.yml does not use the service connection {connection}, the "
                "one the CI identity trusts"
            )
        if not (config.get("adoOrganizationId") or config.get("adoSubject")):
            findings.append(
                f"infra/Pulumi.{stack}.yaml sets neither adoOrganizationId nor adoSubject: the "
                f"CI identity trusts no Azure DevOps service connection yet ({HINT})"
            )
    return findings


def _github_findings(root: Path, stack: str) -> list[str]:
    """Jobs of the CI workflows that log in to Azure: the right environment and variables."""
    import yaml

    findings = []
    for name in CI_WORKFLOWS:
        path = root / ".github" / "workflows" / name
        if not path.is_file():
            continue
        try:
            workflow = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as error:
            findings.append(f".github/workflows/{name} is not valid YAML: {error}".splitlines()[0])
            continue
        for job_name, job in (workflow.get("jobs") or {}).items():
            logins = [
                step.get("with") or {}
                for step in (job.get("steps") or [])
                if str(step.get("uses", "")).startswith("azure/login@")
            ]
            if not logins:
                continue
            where = f".github/workflows/{name} job {job_name}"
            environment = job.get("environment")
            if isinstance(environment, dict):
                environment = environment.get("name")
            if environment != stack:
                findings.append(
                    f"{where} runs in environment {environment or '(none)'}, but the CI "
                    f"identity of stack {stack} trusts environment {stack} only"
                )
            for login in logins:
                for key, variable in (
                    ("client-id", "AZURE_CLIENT_ID"),
                    ("tenant-id", "AZURE_TENANT_ID"),
                    ("subscription-id", "AZURE_SUBSCRIPTION_ID"),
                ):
                    if f"vars.{variable}" not in str(login.get(key, "")):
                        findings.append(f"{where} logs in with {key} not from vars.{variable}")
    return findings


def _ci_files(root: Path) -> list[Path]:
    workflows = root / ".github" / "workflows"
    found = [workflows / n for n in CI_WORKFLOWS if (workflows / n).is_file()]
    pipeline = root / "azure-pipelines.yml"
    return found + ([pipeline] if pipeline.is_file() else [])


def _origin(root: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "remote", "get-url", "origin"],
            capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def _label(provider: str) -> str:
    return "GitHub" if provider == "github" else "Azure DevOps"

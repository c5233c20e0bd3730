"""Answers recorded by an older template, carried over to what the current one means by them.

copier replays a project's recorded answers on the new template. Most answers mean the same in
every version; the few whose meaning changed are converted here, before the update, and passed
to copier as the new answers (the old template is still rendered with the recorded ones, so the
three-way merge sees exactly what the project was made from).

mlstart converts them in Python instead of copier's ``_migrations`` (shell commands run inside
the project, which copier runs only for a trusted template, ``--trust``): mlstart renders its
own template with ``unsafe=False`` everywhere, and these steps are tested like any other code.

Questions added since a project was made take their default where it keeps the old behaviour
(``workload: sklearn``: the project stays a scikit-learn project; ``workstation_kind: vm``).
Where the default would change what is deployed, a step here answers for the old behaviour
(``idle_shutdown_minutes: 0``). No question has been renamed or removed and no generated file
has moved since 0.1.0; a step for such a change belongs here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlstart.core.answers import SSH_KEY_PREFIXES, resolve_ssh_public_key
from mlstart.errors import InvalidAnswerError


def upgrade_answers(recorded: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The recorded answers the current template needs in another form.

    Args:
        recorded: The project's ``.copier-answers.yml``.

    Returns:
        The answers to give copier instead of the recorded ones, and one warning line for
        each that could not be carried over as it was.
    """
    answers: dict[str, Any] = {}
    warnings: list[str] = []
    _ssh_key_text(recorded, answers, warnings)
    _idle_shutdown_stays_off(recorded, answers, warnings)
    return answers, warnings


def _idle_shutdown_stays_off(
    recorded: Mapping[str, Any], answers: dict[str, Any], warnings: list[str]
) -> None:
    """0.4.0: ``idle_shutdown_minutes`` (default 60) is new; a workstation made before it keeps 0.

    The VM's idle-shutdown agent is installed by cloud-init when the VM is created, and Azure
    cannot change a VM's custom data afterwards: a deployed workstation would get the agent's
    tags and role but no agent. Idle shutdown therefore stays off (the VM is tagged
    ``idle-shutdown: off``, the explicit opt-out policy MLS-COST-012 accepts), and a warning
    says how to turn it on.
    """
    if "idle_shutdown_minutes" in recorded or not recorded.get("gpu_workstation", True):
        return
    answers["idle_shutdown_minutes"] = 0
    warnings.append(
        "idle_shutdown_minutes is new in 0.4.0 and stays 0 (off) for this workstation: the "
        "agent is installed only on a new VM; to turn it on, set it to 60 in infra/ "
        "(pulumi config set idleShutdownMinutes 60) and replace the VM "
        "(docs/cost-and-decommissioning.md, Idle shutdown)"
    )


def _ssh_key_text(
    recorded: Mapping[str, Any], answers: dict[str, Any], warnings: list[str]
) -> None:
    """0.2.0: ``ssh_public_key`` holds the key's text, no longer the path of a ``.pub`` file.

    0.1.0 recorded a path (``~/.ssh/id_ed25519.pub``) that exists on one machine only; the
    stack config now holds the key itself, and the program refuses a path. The key is read
    from that path here, as ``mlstart new`` does; where it cannot be read, the answer is left
    empty (set it later with ``pulumi config set sshPublicKey``) and a warning says so.
    """
    value = recorded.get("ssh_public_key")
    if not isinstance(value, str) or not value.strip():
        return
    if value.strip().startswith(SSH_KEY_PREFIXES):
        return
    converted: dict[str, Any] = {"ssh_public_key": value}
    try:
        resolve_ssh_public_key(converted)
    except InvalidAnswerError:
        answers["ssh_public_key"] = ""
        warnings.append(
            f"ssh_public_key was the path {value}, which cannot be read here; the stack config "
            'now has no key: in infra/, run pulumi config set sshPublicKey "$(cat KEY.pub)"'
        )
        return
    answers["ssh_public_key"] = converted["ssh_public_key"]

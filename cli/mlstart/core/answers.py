"""Answers to the template's questions: from the command line, a file and the machine."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from mlstart.errors import InvalidAnswerError, UsageError

#: The answers file copier writes in a generated project (the template's ``_answers_file``).
ANSWERS_FILE = ".copier-answers.yml"


def parse_data_pairs(pairs: Iterable[str]) -> dict[str, str]:
    """Turn ``KEY=VALUE`` strings into a dict (the value may contain ``=``).

    Raises:
        UsageError: If a pair has no ``=`` or an empty key.
    """
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--data expects KEY=VALUE, got {pair!r}")
        result[key.strip()] = value
    return result


#: Answers files larger than this are refused unread (a real one is a few hundred bytes).
MAX_ANSWERS_FILE_BYTES = 1_000_000


def load_answers_file(path: Path) -> dict[str, Any]:
    """Read a YAML mapping of answers (copier's ``_``-prefixed keys are ignored).

    At most :data:`MAX_ANSWERS_FILE_BYTES` are read: a larger file is refused without being
    read whole.

    Raises:
        UsageError: If the file is missing, unreadable, too large, not UTF-8 text, not valid
            YAML or not a mapping.
    """
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_ANSWERS_FILE_BYTES + 1)
    except OSError as error:
        raise UsageError(f"cannot read answers file {path}: {error.strerror}") from error
    if len(raw) > MAX_ANSWERS_FILE_BYTES:
        raise UsageError(
            f"answers file {path} is larger than {MAX_ANSWERS_FILE_BYTES // 1_000_000} MB; "
            "an answers file holds a few lines of question: answer"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(f"answers file {path} is not UTF-8 text") from error
    if "\x00" in text:
        raise UsageError(f"answers file {path} is not a text file")
    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise UsageError(f"answers file {path} is not valid YAML: {yaml_problem(error)}") from error
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise UsageError(f"answers file {path} must hold a mapping of question: answer")
    return {str(key): value for key, value in content.items() if not str(key).startswith("_")}


def yaml_problem(error: yaml.YAMLError) -> str:
    """One line for a YAML error: what is wrong and where (PyYAML's message spans lines)."""
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return f"{error.problem or error.context or 'cannot be parsed'}{where}"
    return " ".join(str(error).split())


def check_known(answers: dict[str, Any], known: list[str] | None) -> None:
    """Refuse answers to questions the template does not ask."""
    if known is None:
        return
    unknown = sorted(set(answers) - set(known))
    if unknown:
        raise InvalidAnswerError(
            f"unknown question(s): {', '.join(unknown)}; the template asks: {', '.join(known)}"
        )


def machine_defaults(today: dt.date | None = None) -> dict[str, str]:
    """Defaults taken from this machine: git identity, running Python, today's date.

    These are offered as defaults (still asked interactively), unlike ``--data`` answers.
    """
    defaults = {
        "python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
        "snapshot_date": (today or dt.date.today()).isoformat(),
    }
    for question, key in (("author_name", "user.name"), ("author_email", "user.email")):
        if value := _git_config(key):
            defaults[question] = value
    if public_key := _first_ssh_public_key():
        defaults["ssh_public_key"] = public_key
    return defaults


def _first_ssh_public_key() -> str | None:
    """The text of the first public key in ~/.ssh (the text works on any machine, CI too)."""
    ssh = Path.home() / ".ssh"
    for name in ("id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub"):
        try:
            text = (ssh / name).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            continue
        if text.startswith(SSH_KEY_PREFIXES) and "PRIVATE KEY" not in text:
            return text
    return None


#: How an OpenSSH public key line starts.
SSH_KEY_PREFIXES = ("ssh-ed25519 ", "ssh-rsa ", "ecdsa-sha2-", "sk-ssh-ed25519@openssh.com ")


def resolve_ssh_public_key(answers: dict[str, Any]) -> None:
    """Replace a ``.pub`` path given for ``ssh_public_key`` with the key's text.

    The stack config must work on every machine that deploys (a teammate's laptop, CI), so
    it holds the key itself, never a path that exists only here.

    Raises:
        InvalidAnswerError: If the path does not exist or holds no public key.
    """
    value = str(answers.get("ssh_public_key") or "").strip()
    if not value or value.startswith(SSH_KEY_PREFIXES) or "PRIVATE KEY" in value:
        return
    path = Path(value).expanduser()
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not a text file"
        raise InvalidAnswerError(
            f"ssh_public_key: cannot read {value} ({reason}); create a key with "
            "`ssh-keygen -t ed25519` or give the key text"
        ) from error
    if not text.startswith(SSH_KEY_PREFIXES) or "PRIVATE KEY" in text:
        raise InvalidAnswerError(
            f"ssh_public_key: {value} is not an OpenSSH public key ('ssh-ed25519 AAAA...')"
        )
    answers["ssh_public_key"] = text


def _git_config(key: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", "config", "--get", key], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return result.stdout.strip() or None

"""The workstation's SSH public key, which the stack config holds as text.

A key given as a ``.pub`` path is read where it is given (``mlstart new`` stores the text);
the program itself accepts only key text, so the stack deploys the same from any machine.
"""

from __future__ import annotations

import re
from pathlib import Path

from .catalog import MISSING_KEY_MARKER

_PUBLIC_KEY = re.compile(
    r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com) "
    r"[A-Za-z0-9+/]+=*( .*)?$"
)


class SshKeyError(ValueError):
    """The SSH public key cannot be used."""


class MissingSshKeyError(SshKeyError):
    """The SSH public key file does not exist."""


def is_public_key(text: str) -> bool:
    """Tell whether ``text`` is one OpenSSH public key line."""
    return bool(_PUBLIC_KEY.match(text.strip()))


def read_ssh_public_key(value: str) -> str:
    """Return the public key text from key text or a path to a ``.pub`` file.

    Args:
        value: The key itself (``ssh-ed25519 AAAA... comment``) or a path; ``~`` is expanded.

    Raises:
        MissingSshKeyError: If ``value`` is a path to a file that does not exist.
        SshKeyError: If the text or the file is not a public key (e.g. a private key).
    """
    text = value.strip()
    if "PRIVATE KEY" in text:
        raise SshKeyError("sshPublicKey holds a private key; give the public key (.pub)")
    if is_public_key(text):
        return text
    path = Path(text).expanduser()
    if not path.is_file():
        raise MissingSshKeyError(
            f"SSH public key file {text} does not exist; create it with "
            f"`ssh-keygen -t ed25519` or set sshPublicKey to the key text"
        )
    content = path.read_text(encoding="utf-8").strip()
    if "PRIVATE KEY" in content or not is_public_key(content):
        raise SshKeyError(f"{text} is not an OpenSSH public key (expected 'ssh-ed25519 AAAA...')")
    return content


def missing_key_marker(value: str) -> str:
    """The key data an older preview used when the key file was missing."""
    return f"{MISSING_KEY_MARKER} ({value.strip()} not found)"


def ssh_public_key_for_program(value: str) -> str:
    """The key data for the VM, which the stack config must hold as text.

    A path works only on the machine that has the file (not on a teammate's laptop or in
    CI), so the program refuses one and says how to store the key itself.

    Raises:
        SshKeyError: If ``value`` is empty, a path, a private key or not a public key.
    """
    text = value.strip()
    if "PRIVATE KEY" in text:
        raise SshKeyError("sshPublicKey holds a private key; give the public key (.pub)")
    if is_public_key(text):
        return text
    source = text if text.endswith(".pub") else "~/.ssh/id_ed25519.pub"
    raise SshKeyError(
        f"sshPublicKey must be the public key's text, not {text or 'empty'!r}: run in infra/ "
        f'pulumi config set sshPublicKey "$(cat {source})"'
    )

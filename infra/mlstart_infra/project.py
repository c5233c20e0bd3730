"""The one reader (and writer) of a Pulumi project on disk.

Finds the project, reads ``Pulumi.yaml`` and a stack's ``Pulumi.<stack>.yaml`` the way the
Pulumi CLI would hand them to the program (full ``project:key`` names, secrets masked), and
sets a key in a stack file while keeping its comments and order. ``mlstart plan``, ``up``,
``status`` and ``down`` all read the project through this module. Pure Python and PyYAML:
no Pulumi import, so it works without the ``azure`` extra.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlstart_infra.components.catalog import SECRET_PLACEHOLDER

PROJECT_FILE = "Pulumi.yaml"


class ProjectError(ValueError):
    """The Pulumi project or a stack's config cannot be used."""


class ProjectNotFoundError(ProjectError):
    """No ``Pulumi.yaml`` where one was looked for."""


class ProgramError(ProjectError):
    """The project is not a Python program mlstart can run (runtime, main)."""


class StackConfigError(ProjectError):
    """A stack's ``Pulumi.<stack>.yaml`` is missing, malformed or cannot be written."""


@dataclass(frozen=True)
class PulumiProject:
    """A Pulumi project on disk.

    Attributes:
        folder: The folder holding ``Pulumi.yaml``.
        name: The project name (the namespace of its config keys).
        runtime: The runtime's name, e.g. ``python``.
        main: The program's folder (holding ``__main__.py``), or its file.
        defaults: Config defaults declared in ``Pulumi.yaml``.
    """

    folder: Path
    name: str
    runtime: str
    main: Path
    defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        """The generated project holding this Pulumi project (its parent when in ``infra/``)."""
        return self.folder.parent if self.folder.name == "infra" else self.folder

    def stack_file(self, stack: str) -> Path:
        """``Pulumi.<stack>.yaml``."""
        return self.folder / f"Pulumi.{stack}.yaml"

    def full_key(self, key: str) -> str:
        """``key`` with this project's namespace unless it already has one."""
        return key if ":" in key else f"{self.name}:{key}"


@dataclass(frozen=True)
class StackConfig:
    """A stack's config as the Pulumi CLI passes it to the program.

    Attributes:
        project: The project's name.
        stack: The stack's name.
        path: ``Pulumi.<stack>.yaml``.
        values: Full keys (``project:key``) to string values, ``Pulumi.yaml`` defaults
            included; secret values are :data:`SECRET_PLACEHOLDER`.
        secrets: The full keys whose values are secret (``secure:``).
        written: The full keys the stack file itself sets, in file order.
    """

    project: str
    stack: str
    path: Path
    values: dict[str, str]
    secrets: list[str]
    written: list[str]

    def get(self, key: str, default: str | None = None) -> str | None:
        """Look a key up with or without its namespace.

        A bare key is looked up in the project's namespace first, then in any namespace.
        """
        if ":" in key:
            return self.values.get(key, default)
        own = f"{self.project}:{key}"
        if own in self.values:
            return self.values[own]
        for name, value in self.values.items():
            if name.split(":", 1)[-1] == key:
                return value
        return default

    def is_secret(self, key: str) -> bool:
        """Whether the value of ``key`` (with or without namespace) is a secret."""
        return any(name == key or name.split(":", 1)[-1] == key for name in self.secrets)


def find_project(path: Path | str, *, python_program: bool = True) -> PulumiProject:
    """Find the Pulumi project in ``path`` or, failing that, in its ``infra/`` folder.

    Args:
        path: A generated project, or its ``infra/`` folder.
        python_program: Also require a Python program with a ``__main__.py`` (what
            running the program needs; reading config and state does not).

    Raises:
        ProjectNotFoundError: If neither folder holds a ``Pulumi.yaml``.
        ProgramError: If ``python_program`` and the program is not Python or is missing.
        ProjectError: If ``Pulumi.yaml`` cannot be read or has no name.
    """
    root = Path(path).expanduser().resolve()
    folder = next((c for c in (root, root / "infra") if (c / PROJECT_FILE).is_file()), None)
    if folder is None:
        raise ProjectNotFoundError(
            f"no Pulumi.yaml in {root} or {root / 'infra'}: run this in a project made by mlstart"
        )
    spec = read_yaml(folder / PROJECT_FILE)
    runtime = spec.get("runtime")
    runtime_name = str((runtime.get("name") if isinstance(runtime, dict) else runtime) or "")
    name = str(spec.get("name") or "")
    if not name:
        raise ProjectError(f"{folder / PROJECT_FILE} has no project name")
    main = (folder / str(spec.get("main") or ".")).resolve()
    defaults = spec.get("config") or {}
    project = PulumiProject(
        folder, name, runtime_name, main, defaults if isinstance(defaults, dict) else {}
    )
    if python_program:
        if runtime_name != "python":
            raise ProgramError(f"{folder / PROJECT_FILE}: only Python programs can be planned")
        if not (main.is_file() or (main / "__main__.py").is_file()):
            raise ProgramError(f"no __main__.py in {main}")
    return project


def read_stack_config(project: PulumiProject, stack: str) -> StackConfig:
    """Read ``Pulumi.<stack>.yaml`` on top of the defaults in ``Pulumi.yaml``.

    Raises:
        StackConfigError: If the stack file is missing or malformed.
    """
    path = project.stack_file(stack)
    if not path.is_file():
        raise StackConfigError(
            f"no stack config {path}; create it with `pulumi stack init {stack}` in "
            f"{project.folder} or pick another stack with --stack"
        )
    values: dict[str, str] = {}
    for key, spec in project.defaults.items():
        default = spec.get("default", spec.get("value")) if isinstance(spec, dict) else spec
        if default is not None:
            values[project.full_key(str(key))] = _as_config_string(default)
    config = read_yaml(path, error=StackConfigError).get("config") or {}
    if not isinstance(config, dict):
        raise StackConfigError(f"{path}: 'config' must be a mapping")
    secrets: list[str] = []
    written: list[str] = []
    for key, value in config.items():
        full = project.full_key(str(key))
        written.append(full)
        if isinstance(value, dict) and "secure" in value:
            values[full] = SECRET_PLACEHOLDER
            secrets.append(full)
        else:
            values[full] = _as_config_string(value)
    return StackConfig(project.name, stack, path, values, secrets, written)


def stack_config(project: PulumiProject, stack: str) -> tuple[dict[str, str], list[str]]:
    """The stack's config as the program receives it: full keys to strings, and the secrets.

    Raises:
        StackConfigError: If the stack file is missing or malformed.
    """
    config = read_stack_config(project, stack)
    return dict(config.values), list(config.secrets)


def set_stack_config(project: PulumiProject, stack: str, key: str, value: str) -> Path:
    """Set ``key`` to the plain (not secret) string ``value`` in ``Pulumi.<stack>.yaml``.

    The line ``  <project>:<key>: <value>`` is replaced where it is (a secret's nested
    ``secure:`` line goes with it) or added at the end of the ``config:`` block; every other
    line, comments included, stays as it was. The file is read back to check the result.

    Returns:
        The stack file.

    Raises:
        StackConfigError: If the file is missing, or the edit cannot be made safely.
    """
    path = project.stack_file(stack)
    if not path.is_file():
        raise StackConfigError(f"no stack config {path}; cannot set {key}")
    full = project.full_key(key)
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    entry = f"{full}: {json.dumps(value)}"
    start = next((i for i, line in enumerate(lines) if re.match(r"config:\s*(#.*)?$", line)), None)
    if start is None:
        if any(re.match(r"config:", line) for line in lines):
            raise StackConfigError(f"{path}: 'config' is not a block mapping; set {full} by hand")
        lines += ["config:", f"  {entry}"]
    else:
        _set_in_block(lines, start, full, entry)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    written = read_stack_config(project, stack)
    if written.values.get(full) != value:
        path.write_text(text, encoding="utf-8")
        raise StackConfigError(f"{path}: could not set {full}; the file was left as it was")
    return path


def _set_in_block(lines: list[str], start: int, full: str, entry: str) -> None:
    """Replace or add ``entry`` in the ``config:`` block starting at line ``start``."""
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0].isspace()):
        end += 1  # the block runs to the next top-level key
    body = [i for i in range(start + 1, end) if lines[i].strip()]
    entries = [i for i in body if not lines[i].lstrip().startswith("#")]
    indent = _indent(lines[entries[0]]) if entries else 2
    found = next(
        (i for i in entries if _indent(lines[i]) == indent and _key_of(lines[i]) == full), None
    )
    if found is None:
        last = max(body, default=start)
        lines.insert(last + 1, " " * indent + entry)
        return
    nested = found + 1  # a secret's `secure:` line (or any deeper line) belongs to the key
    while nested < end and (not lines[nested].strip() or _indent(lines[nested]) > indent):
        nested += 1
    while nested > found + 1 and not lines[nested - 1].strip():
        nested -= 1
    lines[found:nested] = [" " * indent + entry]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _key_of(line: str) -> str | None:
    """The mapping key a ``key: value`` line sets (quotes removed), or None."""
    match = re.match(r"\s*(?:\"([^\"]+)\"|'([^']+)'|([^\s'\"#][^\s]*?))\s*:(?:\s|$)", line)
    if match is None:
        return None
    return next(group for group in match.groups() if group is not None)


def _as_config_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def read_yaml(path: Path, *, error: type[ProjectError] = ProjectError) -> dict[str, Any]:
    """Read a YAML mapping (an empty stack file reads as ``{}``).

    Raises:
        ProjectError: (or ``error``) If the file cannot be read or is not a mapping.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as problem:
        raise error(f"cannot read {path}: {' '.join(str(problem).split())}") from problem
    if data is None and path.name != PROJECT_FILE:
        return {}
    if not isinstance(data, dict):
        raise error(f"{path} is not a YAML mapping")
    return data

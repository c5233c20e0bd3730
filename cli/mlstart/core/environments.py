"""A project's environments: one Pulumi stack each, named in the answers' ``environments``.

``mlstart new`` (and plain ``copier copy``) write ``infra/Pulumi.<name>.yaml`` for every name
in the copier answer ``environments``; :func:`add_environment` adds one later by rendering
the same template file with the project's answers (plain Jinja: that file uses no copier
extension), so both paths write the same bytes, and records the name in
``.copier-answers.yml`` so that ``mlstart update`` keeps it. The first environment is where
development and training happen; it is every stack command's default stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mlstart.core.answers import ANSWERS_FILE, load_answers_file
from mlstart.errors import MlstartError, TemplateError, UsageError

#: The stack a project without the ``environments`` answer has (copier.yml's default).
DEFAULT_ENVIRONMENT = "dev"
#: A name: a Pulumi stack, a CI environment and part of Azure names (copier.yml's validator).
NAME_RULE = re.compile(r"[a-z][a-z0-9]{1,9}")
#: The most environments a project has (copier.yml's validator).
MAX_ENVIRONMENTS = 4
#: The template file copier renders once per environment (its ``yield`` makes one per name).
STACK_TEMPLATE = Path(
    "template", "infra",
    "{% yield stack from environments.split(',') %}Pulumi.{{ stack }}.yaml{% endyield %}.jinja",
)  # fmt: skip

Kind = Literal["production", "staging", "development"]
KINDS: tuple[Kind, ...] = ("production", "staging", "development")
#: Names whose environment gets production or staging defaults (the rest: development).
_KIND_OF_NAME: dict[str, Kind] = {
    "prod": "production", "production": "production",
    "staging": "staging", "test": "staging", "uat": "staging", "preprod": "staging",
}  # fmt: skip


@dataclass(frozen=True)
class Environment:
    """One environment of a project.

    Attributes:
        name: The stack's name.
        kind: Whose defaults its stack config got (by its name).
        config: Its ``infra/Pulumi.<name>.yaml``.
        first: Whether it is the first environment (development and training).
        owns_registry: Whether its stack creates the shared Azure ML registry.
    """

    name: str
    kind: Kind
    config: Path
    first: bool
    owns_registry: bool


@dataclass(frozen=True)
class AddedEnvironment:
    """What :func:`add_environment` did.

    Attributes:
        name: The new stack.
        kind: Its defaults.
        config: The stack config it wrote.
        environments: Every environment now, in order.
        owns_registry: Whether the new stack creates the shared Azure ML registry.
        ci_promotes: Whether the project's CI files already promote between environments
            (they are rendered only for projects made with several; None: no CI).
    """

    name: str
    kind: Kind
    config: Path
    environments: list[str]
    owns_registry: bool
    ci_promotes: bool | None = None


def kind_of(name: str) -> Kind:
    """The defaults an environment of this name gets (production, staging or development)."""
    return _KIND_OF_NAME.get(name, "development")


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name an environment (None when it can)."""
    if not NAME_RULE.fullmatch(name):
        return (
            f"environment name {name!r} must be 2-10 lower-case letters and digits "
            "starting with a letter"
        )
    return None


def project_root(path: Path | str) -> Path:
    """The generated project at ``path`` or above its ``infra/`` folder.

    Raises:
        UsageError: If neither holds ``.copier-answers.yml``.
    """
    folder = Path(path).resolve()
    for candidate in (folder, folder.parent if folder.name == "infra" else None):
        if candidate is not None and (candidate / ANSWERS_FILE).is_file():
            return candidate
    raise UsageError(f"{folder} is not a project made by mlstart (no {ANSWERS_FILE})")


def read_answers(root: Path) -> dict[str, Any]:
    """The project's answers (``.copier-answers.yml``, without copier's ``_`` keys).

    Raises:
        UsageError: If the file cannot be read or is not a YAML mapping.
    """
    return load_answers_file(root / ANSWERS_FILE)


def environment_names(answers: dict[str, Any]) -> list[str]:
    """The environments in the answers, in order (a project from before them has ``dev``)."""
    value = str(answers.get("environments") or DEFAULT_ENVIRONMENT)
    return value.split(",")


def default_stack(path: Path | str) -> str:
    """The stack commands use by default: the project's first environment, else ``dev``.

    Outside a project made by mlstart (or with unreadable answers) it is ``dev``, the
    stack every project had before environments existed.
    """
    try:
        return environment_names(read_answers(project_root(path)))[0]
    except MlstartError:
        return DEFAULT_ENVIRONMENT


def resolve_stack(path: Path | str, stack: str | None) -> str:
    """``stack`` when given, else :func:`default_stack` of ``path``."""
    return stack if stack else default_stack(path)


def list_environments(path: Path | str) -> list[Environment]:
    """The project's environments, in order.

    Raises:
        UsageError: If ``path`` is not a project made by mlstart.
    """
    root = project_root(path)
    names = environment_names(read_answers(root))
    return [
        Environment(
            name=name,
            kind=kind_of(name),
            config=root / "infra" / f"Pulumi.{name}.yaml",
            first=index == 0,
            owns_registry=len(names) > 1 and index == 1,
        )
        for index, name in enumerate(names)
    ]


def add_environment(
    path: Path | str, name: str, *, kind: Kind | None = None, template: Path | None = None
) -> AddedEnvironment:
    """Write ``infra/Pulumi.<name>.yaml`` for a new environment and record it in the answers.

    The stack config is the template's own file rendered with the project's answers, the
    environments plus ``name``, and ``kind`` (default: by the name; see :func:`kind_of`).

    Args:
        path: The generated project (or its ``infra/`` folder).
        name: The new environment's name.
        kind: Whose defaults it gets; by its name when None.
        template: The template folder (holding ``copier.yml``); mlstart's own by default.

    Raises:
        UsageError: If the name is invalid or taken, the project has the most environments,
            or the stack config exists.
        TemplateError: If the template cannot be read or rendered.
    """
    if problem := name_problem(name):
        raise UsageError(problem)
    if kind is not None and kind not in KINDS:
        raise UsageError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    root = project_root(path)
    answers = read_answers(root)
    names = environment_names(answers)
    if name in names:
        raise UsageError(f"environment {name!r} exists already ({', '.join(names)})")
    if len(names) >= MAX_ENVIRONMENTS:
        raise UsageError(
            f"a project has at most {MAX_ENVIRONMENTS} environments ({', '.join(names)})"
        )
    target = root / "infra" / f"Pulumi.{name}.yaml"
    if target.exists():
        raise UsageError(f"{target} exists already; remove it or pick another name")
    chosen: Kind = kind or kind_of(name)
    updated = [*names, name]
    text = render_stack_config(answers, updated, name, chosen, template=template)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with target.open("x", encoding="utf-8") as stream:
            stream.write(text)
    except FileExistsError:
        raise UsageError(f"{target} exists already; remove it or pick another name") from None
    record_environments(root, updated)
    return AddedEnvironment(
        name, chosen, target, updated, owns_registry=len(updated) == 2,
        ci_promotes=ci_promotes(root, str(answers.get("ci_provider", "none"))),
    )  # fmt: skip


def ci_promotes(root: Path, ci_provider: str) -> bool | None:
    """Whether the project's CI promotes between environments; None when it has no CI.

    Promotion is rendered only for projects made with several environments: GitHub's
    ``promote.yml``, Azure DevOps' ``registry`` stage.
    """
    if ci_provider == "github":
        return (root / ".github" / "workflows" / "promote.yml").is_file()
    if ci_provider == "azure-devops":
        pipeline = root / "azure-pipelines.yml"
        return pipeline.is_file() and "- stage: registry" in pipeline.read_text(encoding="utf-8")
    return None


def render_stack_config(
    answers: dict[str, Any],
    environments: list[str],
    stack: str,
    kind: Kind | None = None,
    *,
    template: Path | None = None,
) -> str:
    """The stack config of ``stack``, rendered from the template as copier renders it.

    Args:
        answers: The project's answers.
        environments: Every environment, ``stack`` among them.
        stack: The environment to render.
        kind: Its defaults; by its name when None (as copier does).
        template: The template folder; mlstart's own by default.

    Raises:
        TemplateError: If the template cannot be read or rendered.
    """
    import jinja2
    import jinja2.sandbox

    folder = template or _template_folder()
    source_path = folder / STACK_TEMPLATE
    try:
        source = source_path.read_text(encoding="utf-8")
    except OSError as error:
        raise TemplateError(f"cannot read the stack config template {source_path}") from error
    context = dict(answers)
    context["environments"] = ",".join(environments)
    context["stack"] = stack
    if kind is not None and kind != kind_of(stack):
        context["stack_kind"] = kind
    if len(environments) > 1 and stack == environments[1]:
        context["ml_registry_name"] = _computed(folder, "ml_registry_name", context)
    # Copier's own settings for the template (copier.yml's _envops: keep_trailing_newline).
    env = jinja2.sandbox.SandboxedEnvironment(
        keep_trailing_newline=True, undefined=jinja2.StrictUndefined, autoescape=False
    )
    try:
        return env.from_string(source).render(context)
    except jinja2.TemplateError as error:
        raise TemplateError(f"cannot render {source_path.name} for {stack!r}: {error}") from error


def record_environments(root: Path, environments: list[str]) -> Path:
    """Set ``environments`` in ``.copier-answers.yml``, keeping every other line as it is.

    copier writes the answers sorted by key, so a missing ``environments`` line goes before
    the first key that sorts after it.
    """
    path = root / ANSWERS_FILE
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    entry = f"environments: {','.join(environments)}\n"
    for index, line in enumerate(lines):
        if line.startswith("environments:"):
            lines[index] = entry
            break
    else:
        keys = [
            i for i, line in enumerate(lines)
            if re.match(r"[a-z][A-Za-z0-9_]*:", line) and line.split(":", 1)[0] > "environments"
        ]  # fmt: skip
        lines.insert(keys[0] if keys else len(lines), entry)
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _template_folder() -> Path:
    from mlstart.core.template import locate_template

    source = locate_template()
    if source.copier_yml is None:
        raise TemplateError(
            f"the template {source.src_path} is not a folder on this machine: `mlstart env add` "
            "renders the stack config from a local template"
        )
    return source.copier_yml.parent


def _computed(folder: Path, question: str, context: dict[str, Any]) -> str:
    """A ``when: false`` variable of copier.yml, from its default (copier records none)."""
    import jinja2.sandbox

    from mlstart.core.template import copier_config

    spec = copier_config(folder / "copier.yml").get(question)
    if not isinstance(spec, dict) or "default" not in spec:
        raise TemplateError(f"copier.yml has no default for {question}")
    env = jinja2.sandbox.SandboxedEnvironment(undefined=jinja2.StrictUndefined)
    try:
        return env.from_string(str(spec["default"])).render(context)
    except jinja2.TemplateError as error:
        raise TemplateError(f"cannot compute {question}: {error}") from error

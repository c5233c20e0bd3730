"""Every answer reaches each generated file through that file's own escaping, or is refused.

Free-text answers (name, description, author, emails, owner, an SSH key's comment) land in
YAML, TOML, JSON, Python, Markdown and plain-text files. A property test renders random values
over the CI x serving x data-versioning combinations, parses every YAML, TOML and JSON file,
compiles every Python file, and checks that each value comes back unchanged; a fixed list keeps
the inputs that once broke generation. What no one-line value can hold (line breaks, control
characters) is refused by copier.yml's validators: `mlstart new` exits 2 with one line and
leaves nothing on disk, and plain copier refuses the same values.
"""

from __future__ import annotations

import ast
import contextlib
import io
import itertools
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from mlstart.cli import main
from mlstart.core.new import new_project

from tests.conftest import REPO_ROOT, TEST_KEY

#: The free-text questions and where a test passes each one.
FREE_TEXT = ("description", "author_name", "author_email", "owner", "notification_email")
#: What copier.yml refuses in a one-line answer: C0 and C1 controls, DEL, the line and
#: paragraph separators, surrogates, and the two non-characters no YAML stream may hold.
REFUSED = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
#: libyaml (what Azure's and Pulumi's parsers behave like) is stricter than pure PyYAML: it
#: refuses the surrogate-pair escapes that JSON encoders write for characters beyond U+FFFF.
STRICT_YAML: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
RUFF = Path(sys.executable).with_name("ruff")
#: Files run as shell (CI steps, make recipes, container builds): no free text may reach them.
SHELL_FILES = re.compile(r"(^|/)(\.github/workflows/.*|azure-pipelines\.yml|"
                         r"decommission-pipeline\.yml|Makefile|Dockerfile)$")  # fmt: skip
KEY = TEST_KEY.rsplit(" ", 1)[0]


def interacting() -> list[dict[str, str]]:
    """The full product of the choices that decide which files exist, read from copier.yml."""
    spec = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    names = ("ci_provider", "serving", "data_versioning")
    values = [list(spec[name]["choices"].values()) for name in names]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]


COMBINATIONS = interacting()


def slug_of(name: str) -> str:
    return re.sub("[^a-z0-9]+", "-", name.lower()).strip("-")


# ---------------------------------------------------------------------------- strategies
#: Pieces that mean something in one of the formats, mixed into the random text.
FRAGMENTS = (
    '"', "'", '"""', "'''", "\\", "\\u0041", "\\U0001F600", "\\/", "\\n", "\\x41", "#", " # c",
    "key: value", ": ", "- ", "* ", "1. ", "2) ", "> ", "`", "```", "<b>", "&amp;", "&#35;",
    "{{ 7 * 7 }}", "{% raw %}", "[a](b)", "[x]: /u", "|", "$x$", "~~", "!", "---", "===", "%",
    "&anchor", "*alias", "!!python/object", "@", "${{ github.token }}", "$(id)", "'; rm -rf /",
    "\U0001f600", "\u00e9", "\u2013", "\u2019", "\u00a0", "\u3000", "\ufeff", "\u202e", "    ",
)  # fmt: skip
CHARS = st.characters(
    exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters="\ufffe\uffff"
)
EMAIL_CHARS = st.characters(
    exclude_categories=("Cc", "Cs", "Zl", "Zp", "Zs"), exclude_characters="@\ufffe\uffff"
)
EMAIL_FRAGMENTS = ('"', "'", "\\", "#", "*", "_", "<", ">", "`", "|", "$", "{{", "&", "\U0001f600")


def free_text(max_pieces: int = 6) -> st.SearchStrategy[str]:
    piece = st.one_of(st.sampled_from(FRAGMENTS), st.text(CHARS, max_size=4))
    return st.lists(piece, max_size=max_pieces).map("".join)


def email_part() -> st.SearchStrategy[str]:
    piece = st.one_of(
        st.sampled_from(EMAIL_FRAGMENTS), st.text(EMAIL_CHARS, min_size=1, max_size=3)
    )
    return st.lists(piece, min_size=1, max_size=3).map("".join)


def emails() -> st.SearchStrategy[str]:
    return st.builds("{}@{}.{}".format, email_part(), email_part(), email_part()).filter(
        lambda email: not re.search(r"\s", email)
    )


def project_names() -> st.SearchStrategy[str]:
    """Names whose slug is a valid package name: random text around a fixed ASCII core."""
    return st.builds("{}Zq{}".format, free_text(3), free_text(3)).filter(
        lambda name: len(name) <= 60 and slug_of(name)[:1].isalpha()
    )


def non_blank() -> st.SearchStrategy[str]:
    return free_text().filter(lambda text: text.strip() != "")


# ---------------------------------------------------------------------------- checks
def inline_text(token: Any) -> str:
    """The text of an inline token that must be text only (escapes resolved)."""
    children = token.children or []
    kinds = {child.type for child in children}
    assert kinds <= {"text"}, f"markup {kinds} in {token.content!r}"
    return "".join(child.content for child in children)


def check_readme(text: str, name: str, answers: dict[str, Any]) -> None:
    assert "\n\n\n" not in text.split("\n## ", 1)[0], "blank lines pile up under the title"
    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(text)
    assert (tokens[0].type, tokens[0].tag) == ("heading_open", "h1")
    assert inline_text(tokens[1]) == name.strip()
    description = answers["description"].strip()
    if description:
        assert tokens[3].type == "paragraph_open"
        assert inline_text(tokens[4]) == description
    email = answers["notification_email"]
    mentions = [
        token for token in tokens if token.type == "inline" and "and emails" in token.content
    ]
    if mentions:
        children = mentions[0].children or []
        plain = "".join(
            "\n" if child.type == "softbreak" else child.content
            for child in children
            if child.type in ("text", "code_inline", "softbreak")
        )
        assert f" and emails {email.strip()}\n" in plain


def python_literal(source: str, target: str) -> Any:
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == target:
            return ast.literal_eval(node.value)
    raise AssertionError(f"{target} is not assigned")


def check_project(
    path: Path, name: str, answers: dict[str, Any], *, shell_markers: bool = False
) -> None:
    """Parse every file of a known format and find each answer in it, unchanged.

    With ``shell_markers`` (answers too distinctive to occur by chance), also check that no
    free-text answer reaches a file that is run as shell.
    """
    parsed: dict[str, Any] = {}
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        relative = file.relative_to(path).as_posix()
        text = file.read_text(encoding="utf-8")
        if file.suffix in (".yml", ".yaml"):
            documents = list(yaml.safe_load_all(text))
            assert list(yaml.load_all(text, Loader=STRICT_YAML)) == documents, relative
            parsed[relative] = documents[0]
        elif file.suffix == ".toml":
            parsed[relative] = tomllib.loads(text)
        elif file.suffix == ".json":
            parsed[relative] = json.loads(text)
        elif file.suffix == ".py":
            compile(text, relative, "exec")
        if shell_markers and SHELL_FILES.search(relative):
            for key in (*FREE_TEXT, "ssh_public_key"):
                assert answers[key] not in text, f"{key} reached {relative}"
    package = slug_of(name).replace("-", "_")
    slug = slug_of(name)

    project = parsed["pyproject.toml"]["project"]
    assert project["description"] == answers["description"]
    assert project["authors"] == [
        {"name": answers["author_name"], "email": answers["author_email"]}
    ]

    init = (path / "src" / package / "__init__.py").read_text(encoding="utf-8")
    summary = name.strip() + (
        f": {answers['description'].strip()}" if answers["description"].strip() else ""
    )
    assert ast.get_docstring(ast.parse(init), clean=False) == summary
    config = (path / "src" / package / "config.py").read_text(encoding="utf-8")
    assert python_literal(config, "PROJECT_NAME") == name

    assert parsed[".devcontainer/devcontainer.json"]["name"] == name
    assert parsed["aml/train-job.yml"]["display_name"] == f"train {name}"
    assert parsed["infra/Pulumi.yaml"]["description"] == (
        f"Azure compute for {name}, with auto-shutdown, scale-to-zero and a budget"
    )
    assert parsed["mkdocs.yml"]["site_name"] == name
    assert parsed["mkdocs.yml"]["site_description"] == answers["description"]
    stack = parsed["infra/Pulumi.dev.yaml"]["config"]
    assert stack[f"{slug}:owner"] == answers["owner"]
    assert stack[f"{slug}:notificationEmail"] == answers["notification_email"]
    assert stack[f"{slug}:sshPublicKey"] == answers["ssh_public_key"]
    if answers["serving"] == "aml-endpoint":
        assert parsed["aml/online-deployment.yml"]["tags"]["owner"] == answers["owner"]
    if answers.get("batch_scoring"):
        for spec in ("aml/batch-endpoint.yml", "aml/batch-deployment.yml"):
            assert parsed[spec]["tags"]["owner"] == answers["owner"], spec

    recorded = parsed[".copier-answers.yml"]
    assert recorded["project_name"] == name
    for key in (*FREE_TEXT, "ssh_public_key"):
        assert recorded[key] == answers[key], key

    assert answers["author_name"] in (path / "LICENSE").read_text(encoding="utf-8")
    check_readme((path / "README.md").read_text(encoding="utf-8"), name, answers)

    # The generated project's own `make lint` passes on the files that hold answers.
    holders = [f"src/{package}/__init__.py", f"src/{package}/config.py"]
    for command in (["check", "--no-cache", "--quiet"], ["format", "--check", "--no-cache"]):
        lint = subprocess.run(
            [str(RUFF), *command, *holders], cwd=path, capture_output=True, text=True, check=False
        )
        assert lint.returncode == 0, lint.stdout + lint.stderr


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(autouse=True)
def _use_plain_template(
    _isolated_git_identity: None, plain_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLSTART_TEMPLATE", str(plain_template))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("renders")


def render_and_check(scratch: Path, name: str, answers: dict[str, Any], **options: bool) -> None:
    """Render into a scratch folder of its own, check the project, and remove it."""
    with tempfile.TemporaryDirectory(dir=scratch) as folder:
        result = new_project(
            name, output_dir=folder, data=answers, defaults=True, git=False, lock=False
        )
        check_project(result.path, name, answers, **options)


# ---------------------------------------------------------------------------- accepted values
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(
    name=project_names(),
    description=free_text(),
    author_name=non_blank(),
    author_email=emails(),
    owner=non_blank(),
    notification_email=emails(),
    key_comment=free_text(3),
    combination=st.sampled_from(COMBINATIONS),
)
def test_random_answers_reach_every_file_intact(
    scratch: Path,
    name: str,
    description: str,
    author_name: str,
    author_email: str,
    owner: str,
    notification_email: str,
    key_comment: str,
    combination: dict[str, str],
) -> None:
    answers = {
        "description": description,
        "author_name": author_name,
        "author_email": author_email,
        "owner": owner,
        "notification_email": notification_email,
        "ssh_public_key": f"{KEY} {key_comment}",
        **combination,
    }
    for value in (name, *answers.values()):
        assume(not REFUSED.search(value))
    render_and_check(scratch, name, answers)


#: Inputs that once gave invalid YAML, TOML or Python while `mlstart new` exited 0.
REGRESSIONS = [
    pytest.param("Credit Risk", "key: value # c", id="yaml-comment"),
    pytest.param('Credit """ Risk', 'Ends in a quote """', id="triple-quotes"),
    pytest.param("Credit Risk \\", "trailing backslash \\", id="trailing-backslash"),
    pytest.param('"Quoted" Risk', "it's \"quoted\" and 'single'", id="quotes"),
    pytest.param("C:\\new\\table Risk", "\\u0041 \\U0001F600 \\/ \\x41 \\N{DASH}", id="escapes"),
    pytest.param("  Spaced Risk  ", "   leading and trailing   ", id="outer-spaces"),
    pytest.param("# Heading Risk #", "- a list? 1. no: *emph* [l](x) <b>&amp;</b> | $x$", id="md"),
    pytest.param(
        "Risk \U0001f600 \u00e9\u2013\u2019", "\u3000wide\u00a0space \u202e", id="unicode"
    ),
    pytest.param("Risk {{ 7 * 7 }}", "{% raw %}{{ project_name }}{% endraw %}", id="jinja"),
    pytest.param("Risk", "", id="empty-description"),
]


@pytest.mark.parametrize(("name", "description"), REGRESSIONS)
def test_regression_inputs(scratch: Path, name: str, description: str) -> None:
    answers = {
        "description": description,
        "author_name": f'{name} \\ "Author" #1',
        "author_email": 'o\'brien+"x"\\@example.com',
        "owner": f"team: {description or 'x'} # owner",
        "notification_email": "alerts_*team*@example.com",
        "ssh_public_key": f"{KEY} {description}",
        **COMBINATIONS[0],
    }
    render_and_check(scratch, name, answers)


@pytest.mark.parametrize(
    "combination", COMBINATIONS, ids=["-".join(c.values()) for c in COMBINATIONS]
)
def test_every_combination_escapes(scratch: Path, combination: dict[str, str]) -> None:
    nasty = 'a: "b" # c \\ """ \U0001f600 $(id) `id` ${{ github.token }}'
    answers = {
        "description": nasty,
        "author_name": f"Author {nasty}",
        "author_email": 'author+"$(id)"@example.com',
        "owner": f"Owner {nasty}",
        "notification_email": "alerts+`id`@example.com",
        "ssh_public_key": f"{KEY} {nasty}",
        "batch_scoring": True,  # the batch endpoint and deployment carry the owner tag
        **combination,
    }
    render_and_check(scratch, f"Risk {nasty}", answers, shell_markers=True)


# ---------------------------------------------------------------------------- refused values
#: One-line answers that no format can carry sensibly, with the question they are given to.
REFUSED_CASES = [
    ("project_name", "Credit\nRisk"),
    ("description", "first line\nsecond line"),
    ("description", "carriage\rreturn"),
    ("description", "tab\tstop"),
    ("description", "nul \x00 byte"),
    ("description", "escape \x1b[31mred"),
    ("description", "delete \x7f"),
    ("description", "next line \x85 (C1)"),
    ("description", "line\u2028separator"),
    ("author_name", "Ann\nBee"),
    ("author_email", "ann@example.com\n"),
    ("owner", "team \x07"),
    ("notification_email", "ops@example.com\n"),
    ("ssh_public_key", f"{KEY} comment\r"),
]


def run_new(folder: Path, key: str, value: str) -> tuple[int, str]:
    """Run `mlstart new` with one answer set to ``value``; return the status and stderr."""
    name, data = (
        (value, []) if key == "project_name" else ("Refused Risk", ["-d", f"{key}={value}"])
    )
    args = ["new", name, *data, "--defaults", "--no-lock", "--no-git", "-o", str(folder / "out")]
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info, contextlib.redirect_stderr(err):
        main(args)
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), err.getvalue()


def error_line(err: str) -> str:
    """The one error line of stderr; any other line is progress (• ...)."""
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, err
    assert all(line.startswith("• ") for line in lines if line not in errors), err
    return errors[0]


@pytest.mark.parametrize(("key", "value"), REFUSED_CASES, ids=[k for k, _ in REFUSED_CASES])
def test_refused_by_mlstart_with_one_line(key: str, value: str, tmp_path: Path) -> None:
    status, err = run_new(tmp_path, key, value)
    assert status == 2, err
    assert error_line(err).endswith("must be one line without control characters"), err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("key", "value"), REFUSED_CASES, ids=[k for k, _ in REFUSED_CASES])
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_refused_by_plain_copier(
    key: str, value: str, tmp_path: Path, plain_template: Path
) -> None:
    data = {"project_name": "Refused Risk", key: value}
    with pytest.raises(ValueError, match="must be one line without control characters"):
        copier.run_copy(str(plain_template), tmp_path / "out", data=data, defaults=True, quiet=True)
    assert not (tmp_path / "out").exists()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    key=st.sampled_from(("project_name", *FREE_TEXT)),
    before=st.text(CHARS, max_size=8),
    bad=st.sampled_from(
        sorted({*map(chr, [*range(0x20), *range(0x7F, 0xA0)]), "\u2028", "\u2029"})
    ),
    after=st.text(CHARS, max_size=8),
)
def test_any_control_character_is_refused_with_one_line(
    scratch: Path, key: str, before: str, bad: str, after: str
) -> None:
    value = f"Zq{before}{bad}{after}"
    if key.endswith("email"):
        value = f"{value}@example.com"
    folder = Path(tempfile.mkdtemp(dir=scratch))
    status, err = run_new(folder, key, value)
    assert status == 2, err
    assert "without control characters" in error_line(err), err
    assert list(folder.iterdir()) == []

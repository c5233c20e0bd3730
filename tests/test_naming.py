import sys
from pathlib import Path

import pytest
import yaml
from mlstart.errors import InvalidAnswerError
from mlstart.naming import STDLIB_MODULES, check_package, check_slug, package_from_slug, slugify

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Credit Risk", "credit-risk"),
        ("  Churn / Model v2!  ", "churn-model-v2"),
        ("already-a-slug", "already-a-slug"),
        ("UPPER_and_lower", "upper-and-lower"),
        ("!!!", ""),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_package_from_slug() -> None:
    assert package_from_slug("credit-risk") == "credit_risk"


@pytest.mark.parametrize(
    ("package", "message"),
    [
        ("2fast", "must start with a letter"),
        ("class", "is a Python keyword"),
        ("json", "shadow the standard-library module"),
        ("Bad-Name", "lower-case letters, digits and underscores"),
    ],
)
def test_check_package_rejects(package: str, message: str) -> None:
    with pytest.raises(InvalidAnswerError, match=message):
        check_package(package)


def test_check_slug_rejects_empty() -> None:
    with pytest.raises(InvalidAnswerError, match="at least one ASCII letter or digit"):
        check_slug("")


def test_copier_yml_knows_every_stdlib_module_of_this_python() -> None:
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    listed = set(config["stdlib_modules"]["default"].split())
    assert listed >= STDLIB_MODULES, sorted(STDLIB_MODULES - listed)
    assert sys.version_info >= (3, 11)


def test_copier_yml_knows_every_keyword() -> None:
    import keyword

    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    lower_keywords = {word for word in keyword.kwlist if word.islower()}
    assert set(config["python_keywords"]["default"].split()) == lower_keywords

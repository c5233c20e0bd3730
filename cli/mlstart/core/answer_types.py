"""Answers checked against their question's type before copier sees them.

Copier casts ``-d`` strings by the question's type, and not strictly: ``maybe`` becomes true,
``nan`` and ``inf`` are numbers, ``abc`` for a whole number ends in a raw ``int()`` message.
mlstart checks each typed answer first and says, in one line naming the question, what is
wrong; values that only have the right shape (a date, an address range) are checked for
being real too.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
from collections.abc import Mapping
from typing import Any

from mlstart.errors import InvalidAnswerError

#: Yes/no answers accepted for a ``bool`` question (case-insensitive).
TRUE_WORDS = ("true", "yes")
FALSE_WORDS = ("false", "no")
#: Questions whose answer is a calendar date (YYYY-MM-DD).
DATE_QUESTIONS = ("snapshot_date", "decommission_by")
#: Questions whose answer is an IPv4 address range (CIDR).
CIDR_QUESTIONS = ("ssh_allowed_cidr",)


def check_answer_types(answers: dict[str, Any], types: Mapping[str, str]) -> dict[str, Any]:
    """Return the answers with yes/no and numbers converted, each checked for its type.

    Args:
        answers: Question -> answer, as given (``-d`` values are strings).
        types: Question -> copier type (``bool``, ``int``, ``float``, ``str``, ...).

    Raises:
        InvalidAnswerError: One line naming the question and what it accepts.
    """
    checked = dict(answers)
    for question, value in answers.items():
        kind = types.get(question)
        if kind == "bool":
            checked[question] = _bool(question, value)
        elif kind == "int":
            checked[question] = _whole(question, value)
        elif kind == "float":
            checked[question] = _finite(question, value)
        if question in DATE_QUESTIONS and value not in (None, ""):
            _date(question, value)
        if question in CIDR_QUESTIONS and value not in (None, ""):
            _cidr(question, value)
    return checked


def _bool(question: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise InvalidAnswerError(f"{question}: {str(value)[:40]!r} is not one of true, false, yes, no")


def _whole(question: str, value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    if text.lstrip("+-").isdigit() and text.isascii():
        return int(text)
    raise InvalidAnswerError(f"{question}: {str(value)[:40]!r} is not a whole number")


def _finite(question: str, value: Any) -> float:
    if isinstance(value, bool):
        raise InvalidAnswerError(f"{question}: {value!r} is not a number")
    try:
        number = float(str(value).strip())
    except ValueError:
        raise InvalidAnswerError(f"{question}: {str(value)[:40]!r} is not a number") from None
    if not math.isfinite(number):
        raise InvalidAnswerError(f"{question}: must be a finite number, not {str(value)[:40]!r}")
    return number


def _date(question: str, value: Any) -> None:
    text = str(value).strip()
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidAnswerError(
            f"{question}: {text[:40]!r} is not a calendar date (YYYY-MM-DD)"
        ) from None


def _cidr(question: str, value: Any) -> None:
    text = str(value).strip()
    try:
        ipaddress.IPv4Network(text, strict=False)
    except ValueError:
        raise InvalidAnswerError(
            f"{question}: {text[:40]!r} is not an IPv4 address range like 203.0.113.7/32"
        ) from None

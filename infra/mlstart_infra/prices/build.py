"""The shipped price table, generated from a recorded answer of the Retail Prices API.

``recorded_answer.json`` holds, for each query, the pages the API answered (in its
documented format: ``BillingCurrency``, ``CustomerEntityId``, ``CustomerEntityType``,
``Items``, ``NextPageLink``, ``Count``), with where and when they were recorded.
:func:`build_table` converts it with the same code a refresh uses into ``prices.json``;
:func:`record` asks the live API the same queries again and returns a new answer to
keep. Nobody types a price into ``prices.json``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from mlstart_infra.prices import RetailPricesError
from mlstart_infra.prices.client import API_VERSION, RetailPricesClient
from mlstart_infra.prices.convert import Answer, convert, table
from mlstart_infra.prices.queries import Query

RECORDED_FILE = "recorded_answer.json"


def recorded_path() -> Path:
    """The recorded answer kept in the source tree, next to this module."""
    return Path(str(resources.files("mlstart_infra.prices").joinpath(RECORDED_FILE)))


def shipped_path() -> Path:
    """The generated ``prices.json`` the plan reads when there is no price cache."""
    return Path(str(resources.files("mlstart_infra").joinpath("prices.json")))


def load_recorded(path: Path | None = None) -> dict[str, Any]:
    """Read a recorded answer.

    Raises:
        RetailPricesError: If it is not one.
    """
    where = path or recorded_path()
    try:
        recorded = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RetailPricesError(f"cannot read the recorded answer {where}: {error}") from error
    problem = _recorded_problem(recorded)
    if problem:
        raise RetailPricesError(f"{where} is not a recorded answer: {problem}")
    return recorded  # type: ignore[no-any-return]


def _recorded_problem(recorded: Any) -> str:
    if not isinstance(recorded, dict):
        return "not a JSON object"
    for key in ("source", "recorded_on", "currency", "api"):
        if not isinstance(recorded.get(key), str):
            return f"no {key!r} text"
    if not isinstance(recorded.get("answers"), list):
        return "no 'answers' list"
    for answer in recorded["answers"]:
        if not isinstance(answer, dict) or not isinstance(answer.get("filter"), str):
            return "an answer without a 'filter'"
        pages = answer.get("pages")
        if not isinstance(pages, list) or not all(
            isinstance(page, dict) and isinstance(page.get("Items"), list) for page in pages
        ):
            return f"the answer to {answer['filter']!r} has no pages with 'Items'"
    return ""


def build_table(recorded: dict[str, Any]) -> dict[str, Any]:
    """The price table that a recorded answer converts to.

    Raises:
        RetailPricesError: If an item cannot be converted (a recorded answer must convert
            cleanly: a shipped price is never left out silently).
    """
    answers = [
        Answer(
            Query(answer["filter"], str(answer.get("what", answer["filter"]))),
            [item for page in answer["pages"] for item in page["Items"]],
            str(answer.get("recorded_on", "")),
        )
        for answer in recorded["answers"]
    ]
    hours = float(recorded.get("hours_per_month", 730))
    conversion = convert(answers, recorded_on=recorded["recorded_on"], hours_per_month=hours)
    if conversion.problems:
        raise RetailPricesError("the recorded answer does not convert: " + "; ".join(
            conversion.problems))  # fmt: skip
    return table(
        conversion,
        source=recorded["source"],
        recorded_on=recorded["recorded_on"],
        currency=recorded["currency"],
        api=recorded["api"],
        hours_per_month=hours,
        notes=recorded.get("notes", []),
    )


def render(data: dict[str, Any]) -> str:
    """A table as the text of ``prices.json`` (stable, so regeneration can be compared)."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def record(
    recorded: dict[str, Any], client: RetailPricesClient, *, today: str | None = None
) -> dict[str, Any]:
    """Ask the live API the recorded answer's queries again: the new answer to keep.

    Raises:
        RetailPricesError: If the API cannot be asked (nothing is returned half-done).
    """
    day = today or datetime.now(UTC).date().isoformat()
    answers = [
        {"what": answer.get("what", answer["filter"]), "filter": answer["filter"],
         "pages": client.pages(answer["filter"])}
        for answer in recorded["answers"]
    ]  # fmt: skip
    return {
        "source": (
            f"Azure Retail Prices API ({client.base_url}, api-version {API_VERSION}): list "
            f"prices, pay-as-you-go, recorded on {day} with `python -m mlstart_infra.prices "
            "record`. Not your agreement's prices: run `mlstart prices refresh` for today's."
        ),
        "recorded_on": day,
        "currency": client.currency,
        "api": client.base_url,
        "hours_per_month": recorded.get("hours_per_month", 730),
        "notes": recorded.get("notes", []),
        "answers": answers,
    }

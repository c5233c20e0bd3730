"""How often the model is retrained, and when it is next due.

params.yaml's ``retraining.cadence`` is the one statement of it: ``weekly``, ``monthly`` or
``none`` (retrained by hand). The CI's train schedule runs on :data:`CRON` of that cadence
(the project's tests fail while the two disagree), and the model card gives the date the
model is next due: the first scheduled day after the day it was trained.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

#: The cadences params.yaml may name.
CADENCES = ("weekly", "monthly", "none")
#: The CI schedule of each cadence that has one (cron, UTC): Mondays, or the 1st, 05:00.
CRON = {"weekly": "0 5 * * 1", "monthly": "0 5 1 * *"}
#: How the schedule reads in the model card.
WHEN = {"weekly": "Mondays 05:00 UTC", "monthly": "the 1st of each month, 05:00 UTC"}


def cadence_of(params: dict[str, Any]) -> str:
    """The retraining cadence params.yaml sets (``none`` when it sets none).

    Raises:
        ValueError: If the cadence is not one of :data:`CADENCES`.
    """
    cadence = str((params.get("retraining") or {}).get("cadence", "none"))
    if cadence not in CADENCES:
        raise ValueError(
            f"retraining.cadence in params.yaml is {cadence!r}; use one of {', '.join(CADENCES)}"
        )
    return cadence


def next_due(trained_on: dt.date, cadence: str) -> dt.date | None:
    """The first scheduled day after ``trained_on``; None for ``none`` (no schedule)."""
    if cadence == "weekly":
        return trained_on + dt.timedelta(days=7 - trained_on.weekday())  # the next Monday
    if cadence == "monthly":
        year, month = divmod(trained_on.month, 12)  # the 1st of the next month
        return dt.date(trained_on.year + year, month + 1, 1)
    return None


def card_lines(cadence: str, trained_on: dt.date) -> list[str]:
    """The model card's retraining section: cadence, training date and next due date."""
    if cadence == "none":
        return [
            "- Cadence: none: retrained by hand (`make train`, or the train workflow on demand)",
            f"- Trained on: {trained_on.isoformat()}",
        ]
    due = next_due(trained_on, cadence)
    assert due is not None
    return [
        f"- Cadence: {cadence} (the CI's train schedule: {WHEN[cadence]}, cron `{CRON[cadence]}`)",
        f"- Trained on: {trained_on.isoformat()}",
        f"- Next due: {due.isoformat()}",
    ]


def today() -> dt.date:
    """Today's date in UTC, the time zone of the CI schedules."""
    return dt.date(*time.gmtime()[:3])

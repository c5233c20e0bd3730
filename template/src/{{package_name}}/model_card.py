"""A short model card in Markdown, written from the training record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .config import PROJECT_NAME, TASK
from .data import FEATURES, SOURCE, TARGET
from .plots import figure_names
from .retraining import cadence_of, card_lines

#: The heading of the card's section on the latest drift check (`make monitor`).
MONITORING_HEADING = "## Monitoring"


def render_model_card(
    record: dict[str, Any], trained_on: dt.date, drift: dict[str, Any] | None = None
) -> str:
    """Render the model card for a training record (the content of metrics.json).

    Args:
        record: The training record.
        trained_on: The day of training (not in the record, which stays the same for
            every run of one commit); the retraining section counts the due date from it.
        drift: The latest drift summary (reports/drift.json), if a check has run.
    """
    metric_rows = "\n".join(
        f"| {name} | {value:.4f} |" for name, value in record["metrics"].items()
    )
    package_rows = "\n".join(
        f"| {name} | {version} |" for name, version in record["packages"].items()
    )
    retraining = "\n".join(card_lines(cadence_of(record["params"]), trained_on))
    # Relative links: the card and its figures sit together in reports/ (and in the docs site).
    figures = "\n\n".join(
        f"![{caption}](figures/{name})" for name, caption in figure_names(record["task"]).items()
    )
    return f"""# Model card: {PROJECT_NAME}

## Model
- Task: {TASK}
- Pipeline: {record["pipeline"]}
- Parameters: `{record["params"]["model"]}` (seed {record["params"]["seed"]})
- Model file sha256: `{record["model_sha256"]}`

## Data
- Source: `{SOURCE}`
- Features: {", ".join(FEATURES)}; target derived from `{TARGET}`
- Raw data sha256: `{record["data_sha256"]}`
- Rows: {record["n_train"]} for training, {record["n_test"]} held out

## Held-out metrics
| metric | value |
|---|---|
{metric_rows}

## Figures
On the held-out rows; the importance of a feature is how much the score drops when its
values are shuffled.

{figures}

## Reproducibility
- Git commit: `{record["git_commit"]}`
- uv.lock sha256: `{record["lock_sha256"]}`
- Python: {record["python_version"]}
- Trained on: {record["device"]}, {record["processes"]} process(es)

| package | version |
|---|---|
{package_rows}

## Retraining
{retraining}

{monitoring_section(drift)}
## Intended use and limits
A sample model trained on a small public dataset. Replace the data and review this card
before using the model for any decision about people.
"""


def monitoring_section(drift: dict[str, Any] | None) -> str:
    """The card's monitoring section: a link to the latest drift summary, if there is one."""
    if drift is None:
        body = (
            "No drift check yet: `make monitor` compares a batch of new records with the "
            "training data."
        )
    else:
        drifted = ", ".join(drift["features"]["drifted"]) or "none"
        body = (
            f"Latest drift check ({drift['checked_at']}, {drift['rows']['current']} records): "
            f"**{drift['verdict']}**; features drifted: {drifted}; prediction "
            f"{'drifted' if drift['prediction']['drifted'] else 'stable'}. "
            "Summary: [drift.json](drift.json); report with charts: `reports/drift.html` "
            "(written by `make monitor`, not committed)."
        )
    return f"{MONITORING_HEADING}\n{body}\n"


def with_drift_section(card: str, drift: dict[str, Any]) -> str:
    """``card`` with its monitoring section replaced by one on ``drift`` (added if missing)."""
    section = monitoring_section(drift)
    start = card.find(MONITORING_HEADING + "\n")
    if start == -1:
        return card.rstrip("\n") + "\n\n" + section
    end = card.find("\n## ", start + len(MONITORING_HEADING))
    return card[:start] + section + (card[end:] if end != -1 else "")

"""The one way records are scored: `make predict`, the HTTP API and Azure ML batch scoring.

:func:`score_frame` checks the records against the data's schema and predicts; every path
that scores calls it, so a record is judged and scored the same way whether it comes from a
CSV file, a JSON request or a batch job's input files. :func:`score_csv` is the file form
that `make predict` and the batch scoring script share.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sklearn.pipeline import Pipeline

from .data import FEATURES, validate
from .model import predict


def score_frame(model: Pipeline, records: pd.DataFrame) -> pd.DataFrame:
    """Check ``records`` and return the model's predictions, one row per record.

    Args:
        model: The trained pipeline.
        records: One row per record with the feature columns; a target column, if present,
            is ignored.

    Returns:
        The prediction columns of the model's output schema, indexed like ``records``.

    Raises:
        DataValidationError: Listing every problem (missing or unexpected columns, types,
            ranges, unknown categories, no rows).
    """
    validate(records, require_target=False)
    return predict(model, records[list(FEATURES)])


def score_csv(model: Pipeline, input_csv: Path, output_csv: Path) -> pd.DataFrame:
    """Score every row of ``input_csv`` and write the rows with their predictions to ``output_csv``.

    Returns:
        The input rows with the prediction columns appended.

    Raises:
        DataValidationError: If the file's records do not match the data's schema.
    """
    records = pd.read_csv(input_csv)
    result = pd.concat([records, score_frame(model, records)], axis="columns")
    output_csv.parent.mkdir(parents=True, exist_ok=True)
    result.to_csv(output_csv, index=False, lineterminator="\n")
    return result

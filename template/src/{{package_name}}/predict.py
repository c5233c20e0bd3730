"""Batch scoring: read a CSV of records, validate it, write predictions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .config import Paths
from .data import FEATURES, validate
from .model import load_model, predict
from .tracking import load_champion


def predict_file(paths: Paths, input_csv: Path, output_csv: Path) -> pd.DataFrame:
    """Score every row of ``input_csv`` with the trained model and write ``output_csv``.

    The input must hold the feature columns (a target column, if present, is ignored).
    The registry's champion model is used when a registry is configured; otherwise the
    model file written by training.

    Returns:
        The input rows with the prediction columns appended.
    """
    frame = pd.read_csv(input_csv)
    validate(frame, require_target=False)
    model = load_champion(paths) or load_model(paths.model)
    scored = predict(model, frame[list(FEATURES)])
    result = pd.concat([frame, scored], axis="columns")
    output_csv.parent.mkdir(parents=True, exist_ok=True)
    result.to_csv(output_csv, index=False, lineterminator="\n")
    return result

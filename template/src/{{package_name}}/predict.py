"""`make predict`: score a CSV file of records with the project's model."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .config import Paths
from .model import load_model
from .scoring import score_csv
from .tracking import load_champion


def predict_file(paths: Paths, input_csv: Path, output_csv: Path) -> pd.DataFrame:
    """Score every row of ``input_csv`` with the trained model and write ``output_csv``.

    The input must hold the feature columns (a target column, if present, is ignored).
    The registry's champion model is used when a registry is configured; otherwise the
    model file written by training. Scoring is :func:`.scoring.score_csv`, as in batch
    scoring on Azure ML.

    Returns:
        The input rows with the prediction columns appended.
    """
    model = load_champion(paths) or load_model(paths.model)
    return score_csv(model, input_csv, output_csv)

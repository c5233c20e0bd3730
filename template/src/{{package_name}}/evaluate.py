"""Evaluate the trained model on the held-out split and check the quality thresholds."""

from __future__ import annotations

from typing import Any

from .config import Paths, load_params
from .data import check_manifest, features_and_target, load_raw, validate
from .metrics import evaluate
from .model import load_model
from .reproducibility import sha256_file
from .train import held_out_split, write_json


def evaluate_model(paths: Paths) -> dict[str, Any]:
    """Score the saved model on the held-out rows and compare with ``thresholds``.

    Writes reports/evaluation.json.

    Returns:
        The metrics, the thresholds, the metrics below their threshold and whether all passed.
    """
    params = load_params(paths)
    check_manifest(paths)
    frame = load_raw(paths)
    validate(frame)
    features, target = features_and_target(frame, params)
    _, x_test, _, y_test = held_out_split(features, target, params)
    metrics = evaluate(load_model(paths.model), x_test, y_test)
    thresholds: dict[str, float] = params.get("thresholds", {})
    below = sorted(name for name, minimum in thresholds.items() if metrics[name] < minimum)
    report = {
        "metrics": metrics,
        "thresholds": thresholds,
        "below_threshold": below,
        "passed": not below,
        "model_sha256": sha256_file(paths.model),
    }
    write_json(paths.evaluation, report)
    return report

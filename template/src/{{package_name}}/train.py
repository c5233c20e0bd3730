"""Train the pipeline reproducibly and write the model, its schema, metrics and card."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.model_selection import train_test_split

from .config import TASK, Paths, load_params
from .data import check_manifest, features_and_target, load_raw, validate
from .metrics import evaluate
from .model import build_pipeline, save_model
from .model_card import render_model_card
from .reproducibility import environment_fingerprint, seed_everything
from .schema import build_schema


def train(paths: Paths, *, track: bool | None = None) -> dict[str, Any]:
    """Run the whole training step.

    The raw data must match data/manifest.json. Running twice from the same commit
    writes byte-identical metrics.json and the same model file.

    Args:
        paths: The project's paths.
        track: Log the run and register the model with MLflow; by default as
            ``tracking.enabled`` in params.yaml says.

    Returns:
        The training record that was written to metrics.json; when tracked, the run id
        and registered version are added to it (they are not part of metrics.json).
    """
    params = load_params(paths)
    seed = int(params["seed"])
    seed_everything(seed)

    data_sha256 = check_manifest(paths)
    frame = load_raw(paths)
    validate(frame)
    features, target = features_and_target(frame, params)
    x_train, x_test, y_train, y_test = held_out_split(features, target, params)

    model = build_pipeline(params, seed)
    model.fit(x_train, y_train)
    metrics = evaluate(model, x_test, y_test)
    model_sha256 = save_model(model, paths.model)
    steps = [name for name, _ in model.steps]

    record: dict[str, Any] = {
        "task": TASK,
        "metrics": metrics,
        "n_train": len(x_train),
        "n_test": len(x_test),
        "pipeline": f"{' -> '.join(steps)} ({type(model[-1]).__name__})",
        "params": params,
        "model_sha256": model_sha256,
        "data_sha256": data_sha256,
        **environment_fingerprint(paths.root, paths.lock_file),
    }
    write_json(paths.schema, build_schema())
    write_json(paths.metrics, record)
    paths.model_card.write_text(render_model_card(record), encoding="utf-8")
    enabled = params.get("tracking", {}).get("enabled", False) if track is None else track
    if enabled:
        from .tracking import log_training

        run = log_training(paths, record, model, x_train.head(5))
        return {**record, "run_id": run.run_id, "model_version": run.model_version}
    return record


def held_out_split(
    features: pd.DataFrame, target: pd.Series, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    """The seeded train/test split (stratified for classification)."""
    x_train, x_test, y_train, y_test = train_test_split(
        features,
        target,
        test_size=params["data"]["test_size"],
        random_state=int(params["seed"]),
        stratify=target if TASK == "classification" else None,
    )
    return x_train, x_test, y_train, y_test


def write_json(path: Path, content: dict[str, Any]) -> None:
    """Write sorted, indented JSON with a final newline (stable bytes for equal content)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n", encoding="utf-8")

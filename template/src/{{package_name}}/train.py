"""Train the pipeline reproducibly and write the model, its schema, metrics, figures and card."""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from .config import TASK, Paths, load_params
from .data import check_manifest, features_and_target, load_raw, validate
from .metrics import evaluate
from .model import build_pipeline, save_model, training_facts, writes_outputs
from .model_card import render_model_card
from .reproducibility import environment_fingerprint, seed_everything
from .retraining import cadence_of, today
from .schema import build_schema


def train(
    paths: Paths,
    *,
    track: bool | None = None,
    overrides: dict[str, Any] | None = None,
    figures: bool = True,
) -> dict[str, Any]:
    """Run the whole training step.

    The raw data must match data/manifest.json. Running twice from the same commit
    writes byte-identical metrics.json and figures, and the same model file.

    Args:
        paths: The project's paths.
        track: Log the run and register the model with MLflow; by default as
            ``tracking.enabled`` in params.yaml says.
        overrides: Parameters to use instead of params.yaml's, by dotted key
            (``{"model.C": 0.1}``); see :func:`apply_overrides`. The record's ``params``
            are the ones used.
        figures: Draw the model card's figures (tests that do not look at them skip the
            drawing, which costs about as much as the training).

    Returns:
        The training record that was written to metrics.json; when tracked, the run id
        and registered version are added to it (they are not part of metrics.json).

    Raises:
        ParameterError: If params.yaml's retraining cadence is not one it can be.
    """
    params = apply_overrides(load_params(paths), overrides or {})
    try:
        cadence_of(params)  # a bad cadence fails here, not once the model is written
    except ValueError as error:
        raise ParameterError(str(error)) from error
    data_sha256 = check_manifest(paths)
    frame = load_raw(paths)
    validate(frame)
    model, x_train, x_test, y_test, metrics = fit_and_score(params, frame)
    if not writes_outputs():
        # One process of a distributed run (rank 0) writes the model and the reports.
        return {"task": TASK, "metrics": metrics}
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
        **training_facts(model),
        **environment_fingerprint(paths.root, paths.lock_file),
    }
    write_json(paths.schema, build_schema())
    write_json(paths.metrics, record)
    if figures:
        from .plots import write_figures  # matplotlib is imported only where figures are drawn

        write_figures(model, x_test, y_test, paths.figures, int(params["seed"]))
    drift = (
        json.loads(paths.drift_summary.read_text(encoding="utf-8"))
        if paths.drift_summary.exists()
        else None
    )
    paths.model_card.write_text(render_model_card(record, today(), drift), encoding="utf-8")
    enabled = params.get("tracking", {}).get("enabled", False) if track is None else track
    if enabled:
        from .tracking import log_training

        run = log_training(paths, record, model, x_train.head(5))
        return {**record, "run_id": run.run_id, "model_version": run.model_version}
    return record


def fit_and_score(
    params: dict[str, Any], frame: pd.DataFrame
) -> tuple[Pipeline, pd.DataFrame, pd.DataFrame, pd.Series, dict[str, float]]:
    """Seed, split, fit the pipeline on the training rows and score it on the held-out rows.

    Args:
        params: The parameters to train with.
        frame: The checked raw data.

    Returns:
        The fitted model, the training and held-out features, the held-out target and the
        held-out metrics.
    """
    seed = int(params["seed"])
    seed_everything(seed)
    features, target = features_and_target(frame, params)
    x_train, x_test, y_train, y_test = held_out_split(features, target, params)
    model = build_pipeline(params, seed)
    model.fit(x_train, y_train)
    return model, x_train, x_test, y_test, evaluate(model, x_test, y_test)


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


class ParameterError(ValueError):
    """An override names a parameter that params.yaml does not have, or gives it a bad value."""


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """Parse ``KEY=VALUE`` overrides (``model.C=0.1``), each value read as a YAML scalar."""
    overrides: dict[str, Any] = {}
    for item in items:
        key, equals, text = item.partition("=")
        if not equals or not key.strip():
            raise ParameterError(f"override {item!r} is not KEY=VALUE, e.g. model.C=0.1")
        value = yaml.safe_load(text)
        if isinstance(value, dict | list):
            raise ParameterError(f"override {item!r}: the value must be one value, not a list")
        overrides[key.strip()] = value
    return overrides


def apply_overrides(params: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``params`` with each dotted key (``model.C``) set to its override.

    Only a parameter that params.yaml already has can be overridden, and a number or a
    yes/no only by the same kind of value (``1e-3``, which YAML reads as text, counts as a
    number), so a typo fails here rather than deep inside training.

    Raises:
        ParameterError: An unknown key, or a value of the wrong kind.
    """
    result = copy.deepcopy(params)
    for key, value in overrides.items():
        *parents, name = key.split(".")
        section: Any = result
        for part in parents:
            section = section.get(part) if isinstance(section, dict) else None
        if not isinstance(section, dict) or isinstance(section.get(name, {}), dict):
            from .tracking import flatten

            known = ", ".join(sorted(flatten(params)))
            raise ParameterError(f"unknown parameter {key!r}; params.yaml has: {known}")
        section[name] = _same_kind(key, section[name], value)
    return result


def _same_kind(key: str, current: Any, value: Any) -> Any:
    """``value`` as the kind of value ``current`` is (a number or a yes/no), else an error."""
    if isinstance(current, bool):
        fits = isinstance(value, bool)
    elif isinstance(current, int | float):
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = float(value)
        fits = isinstance(value, int | float) and not isinstance(value, bool)
        if fits and isinstance(current, int) and not isinstance(value, int):
            # A whole number stays whole (seed, max_iter): 1e3 is 1000, 1.5 is refused.
            fits = float(value).is_integer()
            value = int(value) if fits else value
    else:
        fits = True
    if not fits:
        raise ParameterError(f"{key} must be a value like {current!r} (params.yaml), not {value!r}")
    return value

"""Experiment tracking and the model registry, with MLflow.

By default everything stays inside the project: runs in ``mlflow.db`` (SQLite) and artifacts
in ``mlruns/``; no server is needed (``make ui`` browses them). When ``MLFLOW_TRACKING_URI``
is set, for example to the Azure ML workspace's tracking URI, the same calls log and register
there instead.

Every successful training run registers a new model version and points the ``candidate``
alias at it. :func:`promote` moves the ``champion`` alias to a version only if none of its
metrics is worse than the current champion's by more than the tolerance in params.yaml.
Serving and batch prediction load the champion when a registry is configured.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline

from .config import MODEL_NAME, Paths

CANDIDATE = "candidate"
CHAMPION = "champion"
#: Metrics where a smaller value is better; every other metric is better when larger.
LOWER_IS_BETTER = frozenset({"rmse", "mae"})


@dataclass(frozen=True)
class TrackedRun:
    """Where a training run was logged and the model version it registered."""

    run_id: str
    model_version: str
    tracking_uri: str


class PromotionRefused(RuntimeError):
    """The candidate is worse than the champion on at least one metric."""


def tracking_uri(paths: Paths) -> str:
    """``$MLFLOW_TRACKING_URI``, else the project's local SQLite store."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{paths.tracking_db}"


def registry_configured(paths: Paths) -> bool:
    """Whether a registry is there to load models from (remote URI, or a local store)."""
    return bool(os.environ.get("MLFLOW_TRACKING_URI")) or paths.tracking_db.exists()


def _mlflow(paths: Paths) -> Any:
    import logging

    import mlflow
    import mlflow.sklearn

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    mlflow.set_tracking_uri(tracking_uri(paths))
    if mlflow.get_experiment_by_name(MODEL_NAME) is None:
        local = not os.environ.get("MLFLOW_TRACKING_URI")
        location = paths.tracking_artifacts.as_uri() if local else None
        mlflow.create_experiment(MODEL_NAME, artifact_location=location)
    mlflow.set_experiment(MODEL_NAME)
    return mlflow


def flatten(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested parameters: ``model: {C: 1.0}`` becomes ``model.C: 1.0``."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def model_environment(record: dict[str, Any]) -> dict[str, Any]:
    """The environment a registered model needs, as MLflow's conda.yaml: Python and pins.

    The pins are the training record's package versions, and skops (the model's format).
    """
    from importlib import metadata

    requirements = [f"{name}=={version}" for name, version in record["packages"].items()]
    requirements.append(f"skops=={metadata.version('skops')}")
    return {
        "name": "mlflow-env",
        "channels": ["conda-forge"],
        "dependencies": [f"python={record['python_version']}", "pip", {"pip": requirements}],
    }


def log_training(
    paths: Paths, record: dict[str, Any], model: Pipeline, example: pd.DataFrame
) -> TrackedRun:
    """Log a training run (params, metrics, fingerprint, model, card) and register the model.

    Args:
        paths: The project's paths.
        record: The training record written to metrics.json.
        model: The trained pipeline.
        example: A few input rows, logged as the model's input example.

    Returns:
        The run and the new model version, which the ``candidate`` alias now points at.
    """
    mlflow = _mlflow(paths)
    from mlflow.models import infer_signature

    from .model import predict

    # The environment is given to MLflow whole: left to itself, MLflow looks for pip (which a
    # uv environment does not hold) and warns "Failed to resolve installed pip version".
    conda_env = model_environment(record)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mlflow.start_run() as run:
            mlflow.log_params(flatten(record["params"]))
            mlflow.log_metrics(record["metrics"])
            mlflow.set_tags(
                {
                    key: str(record[key])
                    for key in ("git_commit", "lock_sha256", "data_sha256", "model_sha256")
                }
                | {"python_version": record["python_version"], "task": record["task"]}
            )
            signature = infer_signature(example, predict(model, example))
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                signature=signature,
                input_example=example,
                registered_model_name=MODEL_NAME,
                conda_env=conda_env,
                # MLflow stores sklearn models with skops (no arbitrary pickle); the
                # pipeline's encoder keeps numpy dtypes, which skops must be told to trust.
                skops_trusted_types=["numpy.dtype"],
            )
            if paths.model_card.exists():
                mlflow.log_artifact(str(paths.model_card))
    version = str(info.registered_model_version)
    mlflow.MlflowClient().set_registered_model_alias(MODEL_NAME, CANDIDATE, version)
    return TrackedRun(run.info.run_id, version, tracking_uri(paths))


def version_metrics(paths: Paths, alias_or_version: str) -> tuple[str, dict[str, float]] | None:
    """The version number and metrics of the run behind an alias or version (None if absent)."""
    from mlflow.exceptions import MlflowException

    client = _mlflow(paths).MlflowClient()
    try:
        if alias_or_version.isdigit():
            version = client.get_model_version(MODEL_NAME, alias_or_version)
        else:
            version = client.get_model_version_by_alias(MODEL_NAME, alias_or_version)
    except MlflowException:
        return None
    metrics = client.get_run(version.run_id).data.metrics
    return str(version.version), dict(metrics)


def compare(
    candidate: dict[str, float], champion: dict[str, float], tolerance: dict[str, float]
) -> list[str]:
    """Every metric on which the candidate is worse than the champion beyond the tolerance."""
    worse = []
    for name, best in champion.items():
        if name not in candidate:
            continue
        allowed = tolerance.get(name, 0.0)
        value = candidate[name]
        if name in LOWER_IS_BETTER:
            if value > best + allowed:
                worse.append(f"{name} {value:.4f} > champion {best:.4f}")
        elif value < best - allowed:
            worse.append(f"{name} {value:.4f} < champion {best:.4f}")
    return worse


def promote(
    paths: Paths, version: str = CANDIDATE, tolerance: dict[str, float] | None = None
) -> str:
    """Move the ``champion`` alias to ``version`` unless it is worse than the champion.

    Returns:
        The model version that is now the champion.

    Raises:
        LookupError: If the version does not exist.
        PromotionRefused: If a metric is worse than the champion's beyond its tolerance.
    """
    found = version_metrics(paths, version)
    if found is None:
        raise LookupError(f"model version '{version}' of {MODEL_NAME} not found; train first")
    number, metrics = found
    current = version_metrics(paths, CHAMPION)
    if current is not None and current[0] != number:
        worse = compare(metrics, current[1], tolerance or {})
        if worse:
            raise PromotionRefused(
                f"version {number} not promoted, worse than champion version {current[0]}: "
                + "; ".join(worse)
            )
    _mlflow(paths).MlflowClient().set_registered_model_alias(MODEL_NAME, CHAMPION, number)
    return number


def champion(paths: Paths) -> tuple[Pipeline, str, str] | None:
    """The champion model, its version and its model file's sha256 (None without one)."""
    if not registry_configured(paths):
        return None
    from mlflow.exceptions import MlflowException

    mlflow = _mlflow(paths)
    client = mlflow.MlflowClient()
    try:
        version = client.get_model_version_by_alias(MODEL_NAME, CHAMPION)
    except MlflowException:
        return None
    model: Pipeline = mlflow.sklearn.load_model(f"models:/{MODEL_NAME}@{CHAMPION}")
    sha256 = client.get_run(version.run_id).data.tags.get("model_sha256", "unknown")
    return model, str(version.version), sha256


def load_champion(paths: Paths) -> Pipeline | None:
    """The champion model from the registry, or None when no registry or champion exists."""
    found = champion(paths)
    return found[0] if found else None

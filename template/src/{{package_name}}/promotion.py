"""Promotion between environments: the champion of one MLflow store becomes another's.

Each environment has its own MLflow store: locally a SQLite file (``sqlite:///mlflow.db``),
in Azure each workspace's tracking URI (``azureml://<region>.api.azureml.ms/mlflow/v1.0/
subscriptions/.../workspaces/<name>``, see
https://learn.microsoft.com/en-us/azure/machine-learning/how-to-use-mlflow-configure-tracking).
:func:`promote_between` reads the source's ``champion``, copies its model files byte for byte
into a run of the target store (with the source run's parameters, metrics and tags, and where
it came from), registers them there as a new version and points the target's ``champion``
alias at it. The target keeps a better champion unless forced: the same "no worse" gate as
:func:`tracking.promote`, with the tolerance in params.yaml.

Azure ML does not do cross-workspace MLflow operations, but it registers a model from a local
folder holding an MLflow model (https://learn.microsoft.com/en-us/azure/machine-learning/
how-to-manage-models-mlflow): the files travel through a temporary folder, so the same code
runs between two local stores and between two workspaces.
"""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .config import MODEL_NAME
from .tracking import CHAMPION, PromotionRefused, compare

#: Tags on the target's run and model version that say where the model came from.
LINEAGE_TAGS = (
    "promoted_from_store",
    "promoted_from_version",
    "promoted_from_run_id",
    "origin_run_id",
)
#: The source run's tags that are not copied (MLflow's own, which it sets per run).
SYSTEM_TAG_PREFIX = "mlflow."


@dataclass(frozen=True)
class Promotion:
    """What :func:`promote_between` did: the source champion and the target's version."""

    source_version: str
    target_version: str
    copied: bool
    """False when the target's champion already was this model (nothing copied)."""


def _client(uri: str) -> Any:
    import logging

    import mlflow

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def _champion_of(client: Any) -> Any | None:
    """The store's champion model version, or None when it has none."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(MODEL_NAME, CHAMPION)
    except MlflowException:
        return None


def _artifact_location(uri: str) -> str | None:
    """Where a new experiment of a local SQLite store keeps its files: beside the database.

    MLflow's default is ``./mlruns`` under the current directory, which would scatter the
    store's files; remote stores (Azure ML) choose their own location (None).
    """
    parsed = urlparse(uri)
    if parsed.scheme != "sqlite":
        return None
    database = Path(uri.removeprefix("sqlite:///"))
    return (database.resolve().parent / "mlruns").as_uri()


def _experiment_id(client: Any, uri: str) -> str:
    experiment = client.get_experiment_by_name(MODEL_NAME)
    if experiment is not None:
        return str(experiment.experiment_id)
    return str(client.create_experiment(MODEL_NAME, artifact_location=_artifact_location(uri)))


def promote_between(
    source_uri: str,
    target_uri: str,
    *,
    tolerance: dict[str, float] | None = None,
    force: bool = False,
) -> Promotion:
    """Make the source store's champion the target store's champion.

    Args:
        source_uri: MLflow tracking URI of the environment the champion comes from.
        target_uri: MLflow tracking URI of the environment it goes to.
        tolerance: How much worse than the target's champion each metric may be.
        force: Replace the target's champion even when it is better.

    Returns:
        The source champion's version and the target's new (or existing) champion version.

    Raises:
        ValueError: If source and target are the same store.
        LookupError: If the source has no champion.
        PromotionRefused: If the target's champion is better, and ``force`` is not set.
    """
    import mlflow.artifacts

    if source_uri == target_uri:
        raise ValueError(f"source and target are the same store ({source_uri})")
    source = _client(source_uri)
    found = _champion_of(source)
    if found is None:
        raise LookupError(f"no champion of {MODEL_NAME} in {source_uri}: promote one there first")
    run = source.get_run(found.run_id)
    metrics = dict(run.data.metrics)
    origin = run.data.tags.get("origin_run_id", found.run_id)

    target = _client(target_uri)
    current = _champion_of(target)
    if current is not None:
        current_run = target.get_run(current.run_id)
        if current_run.data.tags.get("origin_run_id", current.run_id) == origin:
            return Promotion(str(found.version), str(current.version), copied=False)
        worse = compare(metrics, dict(current_run.data.metrics), tolerance or {})
        if worse and not force:
            raise PromotionRefused(
                f"version {found.version} from {source_uri} not promoted, worse than the "
                f"target's champion version {current.version}: {'; '.join(worse)} "
                "(--force replaces it)"
            )

    lineage = {
        "promoted_from_store": source_uri,
        "promoted_from_version": str(found.version),
        "promoted_from_run_id": found.run_id,
        "origin_run_id": origin,
    }
    tags = {
        key: value
        for key, value in run.data.tags.items()
        if not key.startswith(SYSTEM_TAG_PREFIX) and key not in LINEAGE_TAGS
    } | lineage
    with tempfile.TemporaryDirectory(prefix="promote-") as folder:
        # The version's files as stored (MLmodel, the serialized model, its environment).
        files = mlflow.artifacts.download_artifacts(
            artifact_uri=source.get_model_version_download_uri(MODEL_NAME, found.version),
            dst_path=folder,
            tracking_uri=source_uri,
        )
        new_run = target.create_run(
            _experiment_id(target, target_uri),
            tags=tags,
            run_name=f"promoted-v{found.version}",
        )
        run_id = new_run.info.run_id
        for key, value in run.data.params.items():
            target.log_param(run_id, key, value)
        for key, value in metrics.items():
            target.log_metric(run_id, key, value)
        target.log_artifacts(run_id, files, artifact_path="model")
        target.set_terminated(run_id)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "registered model already exists" notes
            if not target.search_registered_models(filter_string=f"name = '{MODEL_NAME}'"):
                target.create_registered_model(MODEL_NAME)
            version = target.create_model_version(
                MODEL_NAME,
                source=f"{new_run.info.artifact_uri}/model",
                run_id=run_id,
                tags=lineage,
                description=f"promoted from version {found.version} of {source_uri}",
            )
    target.set_registered_model_alias(MODEL_NAME, CHAMPION, str(version.version))
    return Promotion(str(found.version), str(version.version), copied=True)

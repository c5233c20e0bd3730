"""`make monitor`: has a batch of new records drifted from the data the model was trained on?

The reference is the training split of the raw data (the rows the model was fit on), the
current batch is a CSV file or a folder of them (batch-scoring outputs are accepted: their
prediction columns are dropped). Both are scored with :func:`.scoring.score_frame`, the one
scoring function, and compared with Evidently: one drift test per feature (the method and
threshold params.yaml's ``monitor.features`` sets for numerical and categorical columns), the
share of drifted features against ``monitor.features.drift_share``, and one drift test on the
model's score (``monitor.prediction``: the probability of class 1, or the predicted value).

Writes Evidently's report with its charts (``reports/drift.html``, git-ignored: it inlines
Evidently's JavaScript, about 4 MB) and a summary (``reports/drift.json``, committed: the
verdict, the drifted columns and share, the prediction drift and the thresholds). The
command exits :data:`DRIFT_EXIT_CODE` when drift passes the thresholds.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .config import TASK, Paths, load_params
from .data import FEATURES, CategoricalColumn, check_manifest, features_and_target, load_raw
from .data import validate as validate_data
from .model import load_model
from .schema import build_schema

#: The exit code of `python -m ... monitor` when the batch drifted (1 is any other error).
DRIFT_EXIT_CODE = 3
#: The model output whose drift is tested: the score, richer than the class label.
SCORE_COLUMN = "probability" if TASK == "classification" else "prediction"


class MonitorSettingsError(ValueError):
    """params.yaml's ``monitor`` section is missing a setting or has a bad value."""


@dataclass(frozen=True)
class FeatureTests:
    """The per-feature drift tests and the share of drifted features that fails the batch."""

    num_method: str
    num_threshold: float
    cat_method: str
    cat_threshold: float
    drift_share: float


@dataclass(frozen=True)
class PredictionTest:
    """The drift test on the model's score."""

    method: str
    threshold: float


@dataclass(frozen=True)
class MonitorSettings:
    """params.yaml's ``monitor`` section."""

    features: FeatureTests
    prediction: PredictionTest

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> MonitorSettings:
        """Read and check the ``monitor`` section (method names are checked by Evidently).

        Raises:
            MonitorSettingsError: Naming the missing or bad setting.
        """
        section = params.get("monitor")
        if not isinstance(section, dict):
            raise MonitorSettingsError("params.yaml has no `monitor:` section")
        features = _settings(section, "features", FeatureTests)
        prediction = _settings(section, "prediction", PredictionTest)
        if not 0 < features.drift_share <= 1:
            raise MonitorSettingsError(
                f"monitor.features.drift_share in params.yaml is {features.drift_share}; "
                "use a share of the features in (0, 1]"
            )
        return cls(features=features, prediction=prediction)


def _settings(section: dict[str, Any], name: str, kind: type[Any]) -> Any:
    values = section.get(name)
    fields = list(kind.__dataclass_fields__)
    if not isinstance(values, dict) or set(values) != set(fields):
        raise MonitorSettingsError(
            f"monitor.{name} in params.yaml must set exactly: {', '.join(fields)}"
        )
    for field in fields:
        value = values[field]
        number = field.endswith(("threshold", "share"))
        if number and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise MonitorSettingsError(f"monitor.{name}.{field} in params.yaml must be a number")
        if number and value <= 0:
            raise MonitorSettingsError(f"monitor.{name}.{field} in params.yaml must be above 0")
        if not number and not (isinstance(value, str) and value):
            raise MonitorSettingsError(
                f"monitor.{name}.{field} in params.yaml must name an Evidently drift method "
                "(e.g. ks, wasserstein, psi, jensenshannon, chisquare)"
            )
    return kind(**{field: _number_or_name(field, values[field]) for field in fields})


def _number_or_name(field: str, value: Any) -> Any:
    return float(value) if field.endswith(("threshold", "share")) else value


def read_batch(path: Path) -> pd.DataFrame:
    """The records of a CSV file, or of every CSV file under a folder (in name order).

    The model's output columns (in a batch-scoring output) are dropped: the batch is scored
    again by the model being monitored.

    Raises:
        FileNotFoundError: If there is no such file, or the folder holds no CSV file.
    """
    if path.is_dir():
        files = sorted(path.rglob("*.csv"))
        if not files:
            raise FileNotFoundError(f"{path} holds no CSV file to check")
    elif path.is_file():
        files = [path]
    else:
        raise FileNotFoundError(
            f"no batch at {path}: give --current PATH, a CSV file of records (or a folder of "
            "them, such as a batch-scoring output) with the feature columns"
        )
    frame = pd.concat([pd.read_csv(file) for file in files], ignore_index=True)
    outputs = list(build_schema()["output"]["properties"])
    return frame.drop(columns=[name for name in outputs if name in frame.columns])


def reference_frame(paths: Paths, params: dict[str, Any]) -> pd.DataFrame:
    """The features of the training split: the rows the model was fit on."""
    from .train import held_out_split

    check_manifest(paths)
    frame = load_raw(paths)
    validate_data(frame)
    features, target = features_and_target(frame, params)
    x_train, _, _, _ = held_out_split(features, target, params)
    return x_train


def monitor(paths: Paths, current: Path) -> dict[str, Any]:
    """Compare ``current`` with the training data; write the report and the summary.

    The model is the registry's champion when a registry is configured, otherwise the model
    file written by training (as in `make predict`).

    Returns:
        The summary written to reports/drift.json; its ``drift`` is True when the batch
        drifted past the thresholds.

    Raises:
        MonitorSettingsError: If params.yaml's ``monitor`` section is wrong.
        DataValidationError: If the batch's records do not match the data's schema.
        FileNotFoundError: If the batch, the data or the model is missing.
    """
    from .scoring import score_frame
    from .tracking import load_champion

    params = load_params(paths)
    settings = MonitorSettings.from_params(params)
    batch = read_batch(current)
    reference = reference_frame(paths, params)
    model = load_champion(paths) or load_model(paths.model)
    reference = reference.assign(**{SCORE_COLUMN: score_frame(model, reference)[SCORE_COLUMN]})
    batch = batch[list(FEATURES)].assign(**{SCORE_COLUMN: score_frame(model, batch)[SCORE_COLUMN]})
    snapshot = _run_report(reference, batch, settings)
    paths.drift_report.parent.mkdir(parents=True, exist_ok=True)
    snapshot.save_html(str(paths.drift_report))
    summary = summarize(snapshot.dict(), settings)
    summary |= {
        "checked_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "current": _shown(current, paths.root),
        "rows": {"reference": len(reference), "current": len(batch)},
        "report": _shown(paths.drift_report, paths.root),
    }
    paths.drift_summary.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    if paths.model_card.exists():
        from .model_card import with_drift_section

        card = paths.model_card.read_text(encoding="utf-8")
        paths.model_card.write_text(with_drift_section(card, summary), encoding="utf-8")
    return summary


def _shown(path: Path, root: Path) -> str:
    """``path`` relative to the project root when it lies inside it."""
    resolved, base = path.resolve(), root.resolve()
    return resolved.relative_to(base).as_posix() if resolved.is_relative_to(base) else str(path)


def _run_report(reference: pd.DataFrame, current: pd.DataFrame, settings: MonitorSettings) -> Any:
    """Evidently's drift report with its tests, on the features and the model's score."""
    # Evidently's usage telemetry is sent only by its UI service and collector (`evidently
    # ui`), never by reports; DO_NOT_TRACK, the variable they read, keeps it off here too.
    os.environ.setdefault("DO_NOT_TRACK", "1")
    from evidently import DataDefinition, Dataset, Report
    from evidently.legacy.calculations.stattests.registry import StatTestNotFoundError
    from evidently.metrics import ValueDrift
    from evidently.presets import DataDriftPreset

    categorical = [name for name, spec in FEATURES.items() if isinstance(spec, CategoricalColumn)]
    numerical = [name for name in FEATURES if name not in categorical]
    definition = DataDefinition(
        numerical_columns=[*numerical, SCORE_COLUMN], categorical_columns=categorical
    )
    features = settings.features
    report = Report(
        [
            DataDriftPreset(
                columns=list(FEATURES),
                drift_share=features.drift_share,
                num_method=features.num_method,
                num_threshold=features.num_threshold,
                cat_method=features.cat_method,
                cat_threshold=features.cat_threshold,
            ),
            ValueDrift(
                column=SCORE_COLUMN,
                method=settings.prediction.method,
                threshold=settings.prediction.threshold,
            ),
        ],
        include_tests=True,
    )
    try:
        return report.run(
            current_data=Dataset.from_pandas(current, data_definition=definition),
            reference_data=Dataset.from_pandas(reference, data_definition=definition),
        )
    except StatTestNotFoundError as error:
        raise MonitorSettingsError(
            f"a drift method in params.yaml's monitor section: {error}"
        ) from error


def summarize(result: dict[str, Any], settings: MonitorSettings) -> dict[str, Any]:
    """The verdict of Evidently's tests (``Snapshot.dict()``), column by column.

    A feature or the score drifted when its Evidently test failed; the batch drifted when
    the share of drifted features reached ``drift_share`` or the score drifted.
    """
    scores = {
        metric["config"]["column"]: metric["value"]
        for metric in result["metrics"]
        if metric["config"]["type"].endswith(":ValueDrift")
    }
    columns: dict[str, dict[str, Any]] = {}
    share_failed = False
    share = 0.0
    for test in result["tests"]:
        config = test["metric_config"]["params"]
        failed = test["status"] != "SUCCESS"
        if config["type"].endswith(":DriftedColumnsCount"):
            share_failed = failed
            share = next(
                float(metric["value"]["share"])
                for metric in result["metrics"]
                if metric["id"] == test["metric_config"]["metric_id"]
            )
        elif config["type"].endswith(":ValueDrift"):
            column = config["column"]
            columns[column] = {
                "method": config["method"],
                "score": float(scores[column]),
                "threshold": float(config["threshold"]),
                "drifted": failed,
            }
    prediction = columns.pop(SCORE_COLUMN)
    drifted = [name for name in FEATURES if columns[name]["drifted"]]
    drift = share_failed or prediction["drifted"]
    return {
        "verdict": "drift" if drift else "no drift",
        "drift": drift,
        "exit_code": DRIFT_EXIT_CODE if drift else 0,
        "features": {
            "drifted": drifted,
            "drifted_share": round(share, 6),
            "drift_share_threshold": settings.features.drift_share,
            "share_reached": share_failed,
            "settings": asdict(settings.features),
            "columns": columns,
        },
        "prediction": {"column": SCORE_COLUMN, **prediction},
    }


def describe(summary: dict[str, Any]) -> list[str]:
    """The summary in a few lines, for the terminal and the CI log."""
    features = summary["features"]
    prediction = summary["prediction"]
    drifted = ", ".join(features["drifted"]) or "none"
    share = round(100 * features["drifted_share"])
    limit = round(100 * features["drift_share_threshold"])
    return [
        f"features drifted: {drifted} ({share}% of {len(FEATURES)}; the batch drifts at {limit}%)",
        f"prediction ({prediction['column']}): {prediction['method']} score "
        f"{prediction['score']:.4g}, threshold {prediction['threshold']:g}: "
        f"{'drifted' if prediction['drifted'] else 'no drift'}",
        f"verdict: {summary['verdict']} ({summary['rows']['current']} records from "
        f"{summary['current']}); report {summary['report']}, summary reports/drift.json",
    ]

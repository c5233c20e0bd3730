"""The model card's figures: how the model does on the held-out rows, drawn as SVG.

Classification gets the ROC and precision-recall curves and the confusion matrix,
regression the residuals; both get the permutation importance of each feature (how much
the held-out score drops when that feature's values are shuffled), which works for any
model. Training writes them next to the model card (reports/figures/), which embeds them.

The files are byte-identical for the same model and data: figures are drawn on
matplotlib's ``Figure`` objects with no pyplot (so no interactive backend is ever chosen),
the SVG ids come from a fixed salt (``svg.hashsalt``) instead of random ones, and no date
is written into the file.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .config import TASK
from .model import predict

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from sklearn.pipeline import Pipeline

#: The figures of each task: file name under reports/figures/ and the card's caption.
FIGURES: dict[str, dict[str, str]] = {
    "classification": {
        "roc.svg": "ROC curve",
        "precision_recall.svg": "Precision-recall curve",
        "confusion_matrix.svg": "Confusion matrix",
        "feature_importance.svg": "Permutation feature importance",
    },
    "regression": {
        "residuals.svg": "Residuals against predictions",
        "feature_importance.svg": "Permutation feature importance",
    },
}
#: The score permutation importance measures the drop of (sklearn.metrics names).
IMPORTANCE_SCORING = {"classification": "roc_auc", "regression": "r2"}
#: Shuffles per feature (all scored in one prediction, so a few more cost little).
IMPORTANCE_REPEATS = 10
#: Fixed matplotlib settings, so a user's matplotlibrc cannot change the files.
STYLE = {
    "svg.hashsalt": "model-card",  # stable ids for clip paths and glyphs
    "svg.fonttype": "none",  # text stays text (small files); the browser picks the font
    "font.size": 9.0,
    "figure.dpi": 100.0,
}


def figure_names(task: str = TASK) -> dict[str, str]:
    """The figures training writes for ``task``: file name and caption."""
    return FIGURES[task]


def write_figures(
    model: Pipeline, features: pd.DataFrame, target: pd.Series, folder: Path, seed: int
) -> list[Path]:
    """Draw the task's figures of ``model`` on the held-out rows into ``folder``.

    Files of this task that are no longer drawn are not left behind: the folder holds
    exactly :func:`figure_names`.

    Args:
        model: The fitted pipeline.
        features: The held-out features.
        target: The held-out target.
        folder: Where the SVG files go (created if missing).
        seed: Seeds the shuffles of the permutation importance.

    Returns:
        The files written, in :func:`figure_names` order.
    """
    import matplotlib as mpl

    folder.mkdir(parents=True, exist_ok=True)
    scored = predict(model, features)
    drawn: dict[str, Figure] = {}
    with mpl.rc_context(STYLE):
        if TASK == "classification":
            drawn["roc.svg"] = roc_figure(target, scored["probability"])
            drawn["precision_recall.svg"] = precision_recall_figure(target, scored["probability"])
            drawn["confusion_matrix.svg"] = confusion_figure(target, scored["prediction"])
        else:
            drawn["residuals.svg"] = residuals_figure(target, scored["prediction"])
        drawn["feature_importance.svg"] = importance_figure(model, features, target, seed)
        written = []
        for name in figure_names():
            buffer = io.StringIO()
            # No date: the same figure gives the same bytes on every run.
            drawn[name].savefig(buffer, format="svg", metadata={"Date": None})
            # matplotlib ends lines of path data with a space, which the pre-commit hook
            # (trailing whitespace) would strip after every training: strip it here.
            lines = (line.rstrip() for line in buffer.getvalue().splitlines())
            path = folder / name
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            written.append(path)
    for stale in set(folder.glob("*.svg")) - set(written):
        stale.unlink()
    return written


def _figure(width: float = 4.8, height: float = 3.6) -> tuple[Figure, Axes]:
    """A figure of ``width`` by ``height`` inches with one set of axes."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, figure.add_subplot()


def roc_figure(target: pd.Series, probability: pd.Series) -> Figure:
    """The ROC curve with its area, against the diagonal of a random guess."""
    from sklearn.metrics import roc_auc_score, roc_curve

    false_positive, true_positive, _ = roc_curve(target, probability)
    figure, axes = _figure()
    area = roc_auc_score(target, probability)
    axes.plot(false_positive, true_positive, label=f"model (AUC {area:.3f})")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="random guess")
    axes.set(xlabel="False positive rate", ylabel="True positive rate", title="ROC curve")
    axes.legend(loc="lower right")
    return figure


def precision_recall_figure(target: pd.Series, probability: pd.Series) -> Figure:
    """Precision against recall, with the share of positives as the baseline."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    precision, recall, _ = precision_recall_curve(target, probability)
    figure, axes = _figure()
    average = average_precision_score(target, probability)
    axes.step(recall, precision, where="post", label=f"model (AP {average:.3f})")
    positives = float(np.mean(target))
    axes.axhline(positives, linestyle="--", color="grey", label="share of positives")
    axes.set(xlabel="Recall", ylabel="Precision", title="Precision-recall curve")
    axes.legend(loc="lower left")
    return figure


def confusion_figure(target: pd.Series, prediction: pd.Series) -> Figure:
    """Counts of each (actual, predicted) class pair."""
    from sklearn.metrics import confusion_matrix

    counts = confusion_matrix(target, prediction, labels=[0, 1])
    figure, axes = _figure(3.6, 3.2)
    axes.imshow(counts, cmap="Blues")
    for (row, column), count in np.ndenumerate(counts):
        dark = count > counts.max() / 2
        color = "white" if dark else "black"
        axes.text(column, row, str(count), ha="center", va="center", color=color)
    axes.set(xticks=[0, 1], yticks=[0, 1], xlabel="Predicted", ylabel="Actual")
    axes.set_title("Confusion matrix")
    return figure


def residuals_figure(target: pd.Series, prediction: pd.Series) -> Figure:
    """Residuals (actual minus predicted) against the prediction, around zero."""
    residuals = np.asarray(target, dtype="float64") - np.asarray(prediction, dtype="float64")
    figure, axes = _figure()
    axes.scatter(prediction, residuals, s=12, alpha=0.7)
    axes.axhline(0.0, linestyle="--", color="grey")
    axes.set(xlabel="Predicted", ylabel="Actual - predicted", title="Residuals")
    return figure


def importance_figure(
    model: Pipeline, features: pd.DataFrame, target: pd.Series, seed: int
) -> Figure:
    """Each feature's permutation importance (mean drop of the score, with its spread)."""
    means, spreads = permutation_importance(model, features, target, seed)
    order = np.argsort(means, kind="stable")
    figure, axes = _figure(4.8, 0.3 * len(order) + 1.2)
    axes.barh([str(features.columns[i]) for i in order], means[order], xerr=spreads[order])
    scoring = IMPORTANCE_SCORING[TASK]
    axes.set(xlabel=f"Drop in {scoring} when shuffled", title="Permutation importance")
    return figure


def permutation_importance(
    model: Pipeline, features: pd.DataFrame, target: pd.Series, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """How much the held-out score drops when each feature's values are shuffled.

    The definition of :func:`sklearn.inspection.permutation_importance` (the score on the
    rows as they are, minus the score with one column shuffled; mean and standard
    deviation over :data:`IMPORTANCE_REPEATS` seeded shuffles), computed with one
    prediction over all the shuffled copies stacked together instead of one per feature
    and shuffle: the pipeline's fixed cost per call is paid once, which keeps
    `make train` fast.

    Returns:
        The mean and the standard deviation of the drop, one of each per feature column.
    """
    from sklearn.metrics import r2_score, roc_auc_score

    output = "probability" if TASK == "classification" else "prediction"
    generator = np.random.RandomState(seed)
    rows, copies = len(features), len(features.columns) * IMPORTANCE_REPEATS
    # Copy 0 is the rows as they are; copy 1 + i * REPEATS + r has column i shuffled.
    stacked = {}
    for index, name in enumerate(features.columns):
        values = features[name].to_numpy()
        column = np.tile(values, copies + 1)
        for repeat in range(IMPORTANCE_REPEATS):
            start = (1 + index * IMPORTANCE_REPEATS + repeat) * rows
            column[start : start + rows] = generator.permutation(values)
        stacked[name] = column
    scored = predict(model, pd.DataFrame(stacked))[output].to_numpy()
    # One column per copy: the metric scores every copy in one call.
    predictions = scored.reshape(copies + 1, rows).T
    actual = np.tile(target.to_numpy()[:, np.newaxis], (1, copies + 1))
    if TASK == "classification":
        scores = roc_auc_score(actual, predictions, average=None)
    else:
        scores = r2_score(actual, predictions, multioutput="raw_values")
    drops = (scores[0] - scores[1:]).reshape(len(features.columns), IMPORTANCE_REPEATS)
    return drops.mean(axis=1), drops.std(axis=1)

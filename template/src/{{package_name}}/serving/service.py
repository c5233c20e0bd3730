"""What the HTTP API and the Azure ML scoring script share: model loading and request checks.

A request is a JSON object ``{"records": [{feature: value, ...}, ...]}``. Every record is
checked against the input part of the schema that training wrote next to the model
(models/schema.json): types, allowed values, ranges, missing and unexpected fields. All
problems are reported at once (up to :data:`MAX_ERRORS`), in FastAPI's error format, so
clients see one kind of 422. Messages quote at most a short prefix of a bad value or field
name: a 50 MB string is answered with its first characters and its length, never echoed.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline

from ..config import MODEL_NAME, Paths, project_root
from ..data import DataValidationError
from ..model import load_model
from ..reproducibility import git_commit, sha256_file
from ..schema import build_schema
from ..scoring import score_frame
from ..tracking import champion

#: The most records one request may hold.
MAX_BATCH_SIZE = 1000
#: The largest request body accepted, in bytes (1 MiB: about 5,000 records of this schema).
MAX_BODY_BYTES = 1024 * 1024
#: The most problems one error response lists; the rest are counted in a final entry.
MAX_ERRORS = 100
#: The most characters of a bad value or field name an error message quotes.
QUOTE_CHARS = 40
#: Set at image build time (``--build-arg GIT_COMMIT=...``); else asked from git.
GIT_COMMIT_ENV_VAR = "GIT_COMMIT"


class InvalidRequestError(ValueError):
    """A request does not match the schema; ``errors`` lists every problem found.

    Each error is a dict with ``loc`` (where), ``msg`` (what is wrong) and ``type``, the
    shape FastAPI uses for its own validation errors.
    """

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        if len(errors) > MAX_ERRORS:
            more = len(errors) - MAX_ERRORS
            errors = [
                *errors[:MAX_ERRORS],
                _error([], f"{more} more problems not listed", "too_many_errors"),
            ]
        self.errors = errors
        super().__init__("; ".join(f"{_where(e['loc'])}: {e['msg']}" for e in errors))


def _where(loc: list[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text


def clip(text: str, limit: int = QUOTE_CHARS) -> str:
    """``text``, or its first ``limit`` characters and its length when it is longer."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


def _error(loc: list[str | int], msg: str, kind: str) -> dict[str, Any]:
    where = [part if isinstance(part, int) else clip(part) for part in loc]
    return {"loc": ["body", *where], "msg": msg, "type": kind}


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, str):
        if len(value) <= QUOTE_CHARS:
            return f"string {json.dumps(value)}"
        return f"string {json.dumps(value[:QUOTE_CHARS])}... ({len(value)} characters)"
    if isinstance(value, list | dict):
        return "array" if isinstance(value, list) else "object"
    return _number(value) if isinstance(value, int | float) else clip(type(value).__name__)


def _number(value: float) -> str:
    # Python parses integers of up to 4,300 digits from JSON: quote only a prefix.
    return clip(repr(value)) if isinstance(value, float) else clip(str(value))


def _check_value(value: Any, spec: dict[str, Any], loc: list[str | int]) -> dict[str, Any] | None:
    expected = spec.get("type", "number")
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if not is_number:
        return _error(loc, f"expected {expected}, got {_describe(value)}", "type_error")
    if isinstance(value, float) and not math.isfinite(value):
        return _error(loc, f"expected a finite number, got {value}", "value_error")
    if expected == "integer" and isinstance(value, float) and not value.is_integer():
        return _error(loc, f"expected integer, got {_number(value)}", "type_error")
    if "enum" in spec and value not in spec["enum"]:
        return _error(loc, f"must be one of {spec['enum']}, got {_number(value)}", "enum")
    low, high = spec.get("minimum"), spec.get("maximum")
    if (low is not None and value < low) or (high is not None and value > high):
        return _error(loc, f"must be between {low} and {high}, got {_number(value)}", "range")
    return None


def too_large_error() -> dict[str, Any]:
    """The error for a body over :data:`MAX_BODY_BYTES` (answered 413)."""
    message = f"the request body is over {MAX_BODY_BYTES} bytes; send at most {MAX_BATCH_SIZE}"
    return {"loc": ["body"], "msg": f"{message} records per request", "type": "too_large"}


def decode_json(body: str | bytes) -> Any:
    """Decode a request body as JSON.

    Raises:
        InvalidRequestError: If the body is not JSON (one ``json_invalid`` error).
    """
    try:
        return json.loads(body)
    except json.JSONDecodeError as error:
        problem = f"invalid JSON: {error.msg} at line {error.lineno} column {error.colno}"
    except UnicodeDecodeError:
        problem = "invalid JSON: the body is not UTF-8 text"
    except RecursionError:
        problem = "invalid JSON: nested too deeply"
    except ValueError as error:  # e.g. an integer of more than 4,300 digits
        problem = f"invalid JSON: {clip(str(error), 80)}"
    raise InvalidRequestError([{"loc": ["body"], "msg": problem, "type": "json_invalid"}])


def parse_records(payload: Any, schema: dict[str, Any]) -> pd.DataFrame:
    """Check a request body against the schema and return its records as a feature frame.

    Args:
        payload: The decoded JSON body, expected as ``{"records": [record, ...]}``.
        schema: The model schema (its ``input`` part describes one record).

    Returns:
        One row per record, the feature columns in the schema's order.

    Raises:
        InvalidRequestError: Listing every problem, if the body does not match.
    """
    if not isinstance(payload, dict):
        message = f'expected an object with a "records" array, got {_describe(payload)}'
        raise InvalidRequestError([_error([], message, "type_error")])
    errors = [
        _error([key], "unexpected field; the body holds only 'records'", "extra_forbidden")
        for key in payload
        if key != "records"
    ]
    records = payload.get("records")
    if "records" not in payload:
        errors.append(_error(["records"], "field required", "missing"))
    elif not isinstance(records, list):
        errors.append(
            _error(["records"], f"expected an array, got {_describe(records)}", "type_error")
        )
    elif not records:
        errors.append(
            _error(["records"], "the batch is empty: send at least one record", "too_short")
        )
    elif len(records) > MAX_BATCH_SIZE:
        errors.append(
            _error(
                ["records"],
                f"at most {MAX_BATCH_SIZE} records per request, got {len(records)}",
                "too_long",
            )
        )
    if errors:
        raise InvalidRequestError(errors)

    record_schema = schema["input"]
    properties: dict[str, Any] = record_schema["properties"]
    required: list[str] = record_schema["required"]
    for index, record in enumerate(records):
        loc: list[str | int] = ["records", index]
        if not isinstance(record, dict):
            errors.append(_error(loc, f"expected an object, got {_describe(record)}", "type_error"))
            continue
        errors.extend(
            _error([*loc, name], "field required", "missing")
            for name in required
            if name not in record
        )
        for name, value in record.items():
            if name not in properties:
                errors.append(_error([*loc, name], "unexpected field", "extra_forbidden"))
            elif (problem := _check_value(value, properties[name], [*loc, name])) is not None:
                errors.append(problem)
    if errors:
        raise InvalidRequestError(errors)
    return pd.DataFrame.from_records(records, columns=list(properties))


@dataclass(frozen=True)
class ModelService:
    """A loaded model with what the API reports about it."""

    model: Pipeline
    model_path: Path
    model_sha256: str
    schema: dict[str, Any]
    #: Where the model came from: the model file, or the registry's champion version.
    source: str = "file"

    @classmethod
    def load(cls, model_path: Path) -> ModelService:
        """Load the model and the schema.json written next to it (or the built-in schema).

        Raises:
            FileNotFoundError: If the model file is missing.
        """
        model = load_model(model_path)
        schema_file = model_path.with_name("schema.json")
        if schema_file.is_file():
            schema: dict[str, Any] = json.loads(schema_file.read_text(encoding="utf-8"))
        else:
            schema = build_schema()
        return cls(model, model_path, sha256_file(model_path), schema)

    @classmethod
    def load_default(cls) -> ModelService:
        """The registry's champion when a registry is configured, else the model file.

        Raises:
            FileNotFoundError: If there is no champion and the model file is missing.
        """
        paths = Paths(project_root())
        found = champion(paths)
        if found is None:
            return cls.load(paths.model)
        model, version, sha256 = found
        schema = (
            json.loads(paths.schema.read_text(encoding="utf-8"))
            if paths.schema.is_file()
            else build_schema()
        )
        return cls(model, paths.model, sha256, schema, source=f"registry:{MODEL_NAME}@{version}")

    def predict_payload(self, payload: Any) -> list[dict[str, Any]]:
        """Validate a request body and return one output record per input record.

        The records are scored by ``scoring.score_frame``, as `make predict` and batch
        scoring score theirs.

        Raises:
            InvalidRequestError: If the body does not match the schema.
        """
        records = parse_records(payload, self.schema)
        try:
            scored = score_frame(self.model, records)
        except DataValidationError as error:  # what the schema allows, the data's checks refuse
            raise InvalidRequestError(
                [_error([], problem, "value_error") for problem in error.problems]
            ) from error
        predictions: list[dict[str, Any]] = scored.to_dict(orient="records")
        return predictions


def default_model_path() -> Path:
    """The model to serve: ``models/model.joblib`` under the project root.

    The root is ``$<PACKAGE>_ROOT`` when set (the container sets it), else the nearest
    folder holding params.yaml.
    """
    return Paths(project_root()).model


def served_commit() -> str:
    """The git commit of the code being served: ``$GIT_COMMIT``, else asked from git."""
    if commit := os.environ.get(GIT_COMMIT_ENV_VAR, "").strip():
        return commit
    try:
        return git_commit(project_root())
    except FileNotFoundError:
        return "unknown"

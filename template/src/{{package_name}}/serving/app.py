"""The model behind an HTTP API.

Run it with ``uvicorn <package>.serving.app:app`` (``make serve``). Endpoints:

- ``GET /health``: whether the model is loaded, its sha256, where it came from (the model
  file, or the registry's champion when a registry is configured) and the git commit served
  (503 while no model is loaded, so orchestrators wait or restart).
- ``GET /schema``: the JSON schema of inputs and outputs (models/schema.json).
- ``POST /predict``: ``{"records": [...]}`` in, ``{"predictions": [...]}`` out; a body
  that does not match the schema gets 422 with every problem listed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Body, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from .. import __version__
from ..config import PROJECT_NAME
from ..schema import build_schema
from .service import (
    MAX_BATCH_SIZE,
    InvalidRequestError,
    ModelService,
    served_commit,
)


def _request_body_schema() -> dict[str, Any]:
    record = build_schema()["input"]
    example = {
        name: spec.get("enum", [spec.get("minimum", 0)])[0]
        for name, spec in record["properties"].items()
    }
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "records": {
                            "type": "array",
                            "items": record,
                            "minItems": 1,
                            "maxItems": MAX_BATCH_SIZE,
                        }
                    },
                    "required": ["records"],
                    "additionalProperties": False,
                },
                "example": {"records": [example]},
            }
        },
    }


def create_app(model_path: Path | None = None) -> FastAPI:
    """Build the API; the model is loaded at startup from ``model_path`` (default: the project's).

    Args:
        model_path: The model file; by default ``models/model.joblib`` under the project root.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.service = None
        app.state.load_error = None
        app.state.git_commit = served_commit()
        try:
            app.state.service = (
                ModelService.load(model_path) if model_path else ModelService.load_default()
            )
        except (FileNotFoundError, OSError, ValueError) as error:
            app.state.load_error = str(error)
        yield

    app = FastAPI(title=f"{PROJECT_NAME} model", version=__version__, lifespan=lifespan)

    def loaded(request: Request) -> ModelService:
        service: ModelService | None = request.app.state.service
        if service is None:
            raise HTTPException(
                status_code=503, detail=f"model not loaded: {request.app.state.load_error}"
            )
        return service

    @app.get("/health")
    def health(request: Request) -> JSONResponse:
        """Report whether the model is loaded, its sha256 and the git commit served."""
        service: ModelService | None = request.app.state.service
        body: dict[str, Any] = {
            "status": "ok" if service else "unavailable",
            "model_loaded": service is not None,
            "model_sha256": service.model_sha256 if service else None,
            "model_source": service.source if service else None,
            "git_commit": request.app.state.git_commit,
            "version": __version__,
        }
        if service is None:
            body["detail"] = request.app.state.load_error
        return JSONResponse(body, status_code=200 if service else 503)

    @app.get("/schema")
    def schema(request: Request) -> dict[str, Any]:
        """Return the JSON schema of one input record and one output record."""
        return loaded(request).schema

    @app.post("/predict", openapi_extra={"requestBody": _request_body_schema()})
    def predict(request: Request, payload: Annotated[Any, Body()]) -> dict[str, Any]:
        """Score a batch of records; each must match the input schema."""
        service = loaded(request)
        try:
            predictions = service.predict_payload(payload)
        except InvalidRequestError as error:
            raise HTTPException(status_code=422, detail=error.errors) from error
        return {"predictions": predictions, "model_sha256": service.model_sha256}

    return app


app = create_app()

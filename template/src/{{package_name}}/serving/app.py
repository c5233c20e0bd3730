"""The model behind an HTTP API.

Run it with ``uvicorn <package>.serving.app:app`` (``make serve``). Endpoints:

- ``GET /health``: whether the model is loaded, its sha256, where it came from (the model
  file, or the registry's champion when a registry is configured) and the git commit served
  (503 while no model is loaded, so orchestrators wait or restart).
- ``GET /schema``: the JSON schema of inputs and outputs (models/schema.json) and the
  request ``limits``: at most 1000 records and 1 MiB per request.
- ``POST /predict``: ``{"records": [...]}`` in, ``{"predictions": [...]}`` out; a body
  that does not match the schema gets 422 with every problem listed.

Every error has one shape, ``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}``:
422 (schema, malformed JSON), 404 (no such endpoint), 405 (wrong method), 413 (body over
1 MiB), 415 (a body that is not JSON) and 503 (no model loaded).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from ..config import PROJECT_NAME
from ..schema import build_schema
from .service import (
    MAX_BATCH_SIZE,
    MAX_BODY_BYTES,
    InvalidRequestError,
    ModelService,
    clip,
    decode_json,
    served_commit,
    too_large_error,
)


def problem(loc: list[str | int], msg: str, kind: str) -> dict[str, Any]:
    """One entry of an error response's ``detail`` list."""
    return {"loc": loc, "msg": msg, "type": kind}


def error_response(
    status_code: int, errors: list[dict[str, Any]], headers: dict[str, str] | None = None
) -> JSONResponse:
    """The one shape of every error: ``{"detail": [{"loc", "msg", "type"}, ...]}``."""
    return JSONResponse({"detail": errors}, status_code=status_code, headers=headers)


class BodyTooLargeError(StarletteHTTPException):
    """The body streamed in is larger than the limit (answered 413)."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail=[too_large_error()])


class BodySizeLimit:
    """Answer 413 to a request body over ``max_bytes``, whether declared or streamed.

    A ``Content-Length`` over the limit is refused before the body is read; a chunked body
    is counted as it arrives and refused as soon as it passes the limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and (len(declared) > 18 or int(declared) > self.max_bytes):
            await error_response(413, [too_large_error()])(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError()
            return message

        await self.app(scope, limited_receive, send)


def _is_json(content_type: str | None) -> bool:
    """No content type (read as JSON), ``application/json`` or any ``+json`` type."""
    media = (content_type or "").split(";")[0].strip().lower()
    return media in ("", "application/json") or media.endswith("+json")


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    headers = dict(error.headers) if error.headers else None
    if isinstance(error.detail, list):
        return error_response(error.status_code, error.detail, headers)
    path = clip(request.url.path)
    if error.status_code == 404:
        errors = [problem(["path"], f"no endpoint at {path}; see /docs", "not_found")]
    elif error.status_code == 405:
        allowed = next((v for k, v in (headers or {}).items() if k.lower() == "allow"), "")
        message = f"{request.method} is not allowed on {path}; use {allowed or 'another method'}"
        errors = [problem(["method"], message, "method_not_allowed")]
    else:
        errors = [problem([], clip(str(error.detail), 200), f"http_{error.status_code}")]
    return error_response(error.status_code, errors, headers)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        problem(
            [part if isinstance(part, int) else clip(str(part)) for part in item.get("loc", [])],
            clip(str(item.get("msg", "")), 200),
            str(item.get("type", "value_error")),
        )
        for item in error.errors()
    ]
    return error_response(422, errors)


#: What ``GET /schema`` reports about the requests it accepts.
LIMITS = {"max_records": MAX_BATCH_SIZE, "max_body_bytes": MAX_BODY_BYTES}


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
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)

    def loaded(request: Request) -> ModelService:
        service: ModelService | None = request.app.state.service
        if service is None:
            message = f"model not loaded: {request.app.state.load_error}"
            raise HTTPException(status_code=503, detail=[problem([], message, "model_not_loaded")])
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
        """Return the JSON schema of one input and one output record, and the request limits."""
        return {**loaded(request).schema, "limits": LIMITS}

    @app.post("/predict", openapi_extra={"requestBody": _request_body_schema()})
    async def predict(request: Request) -> dict[str, Any]:
        """Score a batch of records; each must match the input schema."""
        service = loaded(request)
        content_type = request.headers.get("content-type")
        if not _is_json(content_type):
            message = f"expected a JSON body (application/json), got {clip(content_type or '')}"
            raise HTTPException(
                status_code=415,
                detail=[problem(["header", "content-type"], message, "unsupported_media_type")],
            )
        try:
            payload = decode_json(await request.body())
            predictions = await run_in_threadpool(service.predict_payload, payload)
        except InvalidRequestError as error:
            raise HTTPException(status_code=422, detail=error.errors) from error
        return {"predictions": predictions, "model_sha256": service.model_sha256}

    return app


app = create_app()

"""A generated project serves its trained model over real HTTP (uvicorn on 127.0.0.1; slow)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import pytest
from mlstart.core.new import NewProjectResult
from mlstart.core.tools import find_uv

from tests.conftest import run, uv_env
from tests.ship_helpers import uv_cache_env

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: How long the server may take to answer /health: generous, since a loaded machine can be
#: slow to import; the wait ends as soon as the server answers or exits.
READY_WITHIN_S = 600.0


def http(
    method: str, url: str, body: Any = None, *, raw: bytes | None = None, content_type: str = ""
) -> tuple[int, Any]:
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": content_type or "application/json"}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def declare_oversized_body(port: int, path: str, length: int) -> tuple[int, Any]:
    """Send only the headers of a ``length``-byte POST and read the answer.

    The server answers 413 and closes the connection without reading the body, so a client
    still writing that body would meet a broken pipe: a real client reads the early answer.
    """
    connection = HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.putrequest("POST", path)
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(length))
        connection.endheaders()
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def wait_for(url: str, server: subprocess.Popen[bytes], log: Path) -> tuple[int, Any]:
    """Poll ``url`` until the server answers; fail as soon as it exits."""
    give_up = time.monotonic() + READY_WITHIN_S
    while True:
        try:
            return http("GET", url)
        except OSError:
            if server.poll() is not None:
                output = log.read_text(encoding="utf-8", errors="replace")
                pytest.fail(f"the server exited {server.returncode}:\n{output}")
            if time.monotonic() > give_up:
                pytest.fail(f"the server did not answer {url} within {READY_WITHIN_S:.0f} s")
            time.sleep(0.25)


def assert_error_shape(body: Any) -> list[dict[str, Any]]:
    """Every error answer: ``{"detail": [{"loc", "msg", "type"}, ...]}`` and nothing else."""
    assert set(body) == {"detail"}, body
    assert body["detail"] and isinstance(body["detail"], list), body
    for error in body["detail"]:
        assert set(error) == {"loc", "msg", "type"}, error
    errors: list[dict[str, Any]] = body["detail"]
    return errors


def test_generated_project_serves_predictions_over_http(
    synced_project: NewProjectResult, tmp_path: Path
) -> None:
    project = synced_project.path
    package = synced_project.answers["package_name"]
    root_var = f"{package.upper()}_ROOT"
    # Train into a scratch root: the shared project stays untouched.
    root = tmp_path / "root"
    (root / "data").mkdir(parents=True)
    shutil.copyfile(project / "params.yaml", root / "params.yaml")
    shutil.copyfile(project / "data" / "manifest.json", root / "data" / "manifest.json")
    env = {**uv_env(), **uv_cache_env(), root_var: str(root)}
    uv = find_uv()
    run([uv, "run", "--frozen", "python", "-m", package, "data"], project, env=env)
    run([uv, "run", "--frozen", "python", "-m", package, "train"], project, env=env)
    assert (root / "models" / "model.joblib").is_file()

    port = free_port()
    log = tmp_path / "uvicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [
                uv, "run", "--frozen", "uvicorn", f"{package}.serving.app:app",
                "--host", "127.0.0.1", "--port", str(port),
            ],
            cwd=project,
            env={**os.environ, **env, "GIT_COMMIT": synced_project.commit or ""},
            stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        status, health = wait_for(f"{base}/health", server, log)
        assert status == 200
        assert health["model_loaded"] is True
        assert len(health["model_sha256"]) == 64
        assert health["git_commit"] == synced_project.commit

        status, schema = http("GET", f"{base}/schema")
        assert status == 200
        assert schema["limits"] == {"max_records": 1000, "max_body_bytes": 1024 * 1024}
        features = schema["input"]["required"]
        record = {
            name: schema["input"]["properties"][name].get("enum", [None])[0] for name in features
        }
        for name, spec in schema["input"]["properties"].items():
            if record[name] is None:
                record[name] = (spec["minimum"] + spec["maximum"]) / 2

        status, scored = http("POST", f"{base}/predict", {"records": [record, record]})
        assert status == 200, scored
        assert len(scored["predictions"]) == 2
        assert set(scored["predictions"][0]) == {"prediction", "probability"}

        cases = {
            "wrong type": {"records": [{**record, "bmi": "high"}]},
            "missing field": {"records": [{k: v for k, v in record.items() if k != "age"}]},
            "extra field": {"records": [{**record, "name": "x"}]},
            "empty batch": {"records": []},
        }
        for case, body in cases.items():
            status, rejected = http("POST", f"{base}/predict", body)
            assert status == 422, case
            assert_error_shape(rejected)

        # A huge value is quoted by a prefix, never echoed back whole.
        status, rejected = http(
            "POST", f"{base}/predict", {"records": [{**record, "bmi": "x" * 500_000}]}
        )
        assert status == 422
        assert "(500000 characters)" in assert_error_shape(rejected)[0]["msg"]
        assert len(json.dumps(rejected)) < 2000

        # Every 4xx has the project's one error shape: no FastAPI default, no bytes repr.
        errors = {
            "malformed JSON": (422, "POST", "/predict", b'{"records": [', "application/json"),
            "text/plain": (415, "POST", "/predict", b'{"records": []}', "text/plain"),
            "no such endpoint": (404, "GET", "/nowhere", None, ""),
            "wrong method": (405, "PUT", "/health", b"{}", "application/json"),
        }
        for case, (expected, method, path, raw, content_type) in errors.items():
            status, rejected = http(method, f"{base}{path}", raw=raw, content_type=content_type)
            assert status == expected, case
            assert "b'" not in json.dumps(assert_error_shape(rejected)), case

        # A declared body over 1 MiB is refused before it is read.
        status, rejected = declare_oversized_body(port, "/predict", 1024 * 1024 + 1)
        assert status == 413
        assert_error_shape(rejected)
    finally:
        server.terminate()
        server.wait(timeout=60)

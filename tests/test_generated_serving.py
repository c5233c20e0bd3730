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


def http(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_for(url: str, server: subprocess.Popen[bytes], seconds: float = 60) -> tuple[int, Any]:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return http("GET", url)
        except OSError:
            if server.poll() is not None:
                output = server.stdout.read().decode() if server.stdout else ""
                pytest.fail(f"the server exited {server.returncode}:\n{output}")
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


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
    server = subprocess.Popen(
        [
            uv, "run", "--frozen", "uvicorn", f"{package}.serving.app:app",
            "--host", "127.0.0.1", "--port", str(port),
        ],
        cwd=project,
        env={**os.environ, **env, "GIT_COMMIT": synced_project.commit or ""},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        status, health = wait_for(f"{base}/health", server)
        assert status == 200
        assert health["model_loaded"] is True
        assert len(health["model_sha256"]) == 64
        assert health["git_commit"] == synced_project.commit

        status, schema = http("GET", f"{base}/schema")
        assert status == 200
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
            assert rejected["detail"] and all("msg" in error for error in rejected["detail"]), case
    finally:
        server.terminate()
        server.wait(timeout=20)

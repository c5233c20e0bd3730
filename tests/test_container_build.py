"""Build a generated project's image for real and run it (slow; needs root, podman, debootstrap).

Registry pulls are impossible here, so the base image is made locally: `debootstrap` writes a
Debian bookworm root file system with python3.11 (cached under ~/.cache/mlstart-tests), which
is imported as the base image, and the uv image is made from the uv binary the tests use.
podman builds with chroot isolation and vfs storage (no daemon, no overlay mounts); the build
reaches PyPI through the machine's TLS proxy, whose CA bundle goes in as the `ca_bundle`
build secret. `bash .ci/system-packages` installs podman, buildah, debootstrap and runc.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlstart.core.new import NewProjectResult
from mlstart.core.tools import find_uv

from tests.conftest import SHARES_SYNCED_PROJECT, run, uv_env
from tests.ship_helpers import completed, free_port, http, user_cache_dir, uv_cache_env

pytestmark = pytest.mark.slow

SUITE = "bookworm"
MIRROR = os.environ.get("MLSTART_TEST_DEBIAN_MIRROR", "http://deb.debian.org/debian")
BASE_IMAGE = "localhost/mlstart-test-python"
BASE_TAG = f"3.11-{SUITE}"
UV_IMAGE = "localhost/mlstart-test-uv"
GIT_COMMIT = "0123456789abcdef0123456789abcdef01234567"


def missing_requirements() -> str | None:
    if os.geteuid() != 0:
        return "needs root (debootstrap and podman with vfs storage)"
    missing = [name for name in ("podman", "debootstrap") if shutil.which(name) is None]
    if missing:
        return f"{', '.join(missing)} not installed: run `bash .ci/system-packages`"
    return None


@pytest.fixture(scope="module")
def base_rootfs() -> Path:
    """A Debian root file system with python3.11, as a tar file cached across sessions."""
    if reason := missing_requirements():
        pytest.skip(reason)
    cache = user_cache_dir() / "mlstart-tests"
    tar = cache / f"debian-{SUITE}-python3.11-rootfs.tar"
    if tar.is_file():
        return tar
    cache.mkdir(parents=True, exist_ok=True)
    work = cache / f"{SUITE}-rootfs.tmp"
    shutil.rmtree(work, ignore_errors=True)
    try:
        run(
            [
                "debootstrap", "--variant=minbase", "--include=python3.11,ca-certificates",
                SUITE, str(work), MIRROR,
            ],
            cache,
            timeout=900,
        )  # fmt: skip
        run(["tar", "-C", str(work), "-cf", f"{tar}.tmp", "."], cache)
        os.replace(f"{tar}.tmp", tar)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return tar


@pytest.fixture
def podman(tmp_path: Path) -> Iterator[list[str]]:
    """podman with its own vfs storage under the test's temporary folder, removed after."""
    storage = tmp_path / "storage"
    # podman refuses a run root longer than 50 characters: keep it short, under /tmp.
    runroot = Path(tempfile.mkdtemp(prefix="mlstart-podman-", dir="/tmp"))
    command = [
        "podman", "--root", str(storage / "root"), "--runroot", str(runroot),
        "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
    ]  # fmt: skip
    if shutil.which("runc"):
        # crun refuses hybrid cgroup hierarchies (as on this machine); runc copes.
        command += ["--runtime", "runc"]
    yield command
    completed([*command, "rm", "--all", "--force"], tmp_path)
    completed(["rm", "-rf", str(storage), str(runroot)], tmp_path)


def build_context(project: NewProjectResult, destination: Path) -> Path:
    """Copy the project's tracked files and train its model there (the shared copy stays)."""
    files = run(["git", "ls-files", "-z"], project.path).stdout.split("\0")
    for relative in filter(None, files):
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(project.path / relative, target)
    package = project.answers["package_name"]
    env = {**uv_env(), **uv_cache_env(), f"{package.upper()}_ROOT": str(destination)}
    for step in ("data", "train"):
        run([find_uv(), "run", "--frozen", "python", "-m", package, step], project.path, env=env)
    assert (destination / "models" / "model.joblib").is_file()
    return destination


@SHARES_SYNCED_PROJECT
def test_image_builds_and_answers_health_and_predict(
    synced_project: NewProjectResult, base_rootfs: Path, podman: list[str], tmp_path: Path
) -> None:
    context = build_context(synced_project, tmp_path / "context")
    slug = synced_project.answers["project_slug"]
    image = f"localhost/{slug}:test"

    run([*podman, "import", "--change", "ENV PATH=/usr/local/bin:/usr/bin:/bin",
         str(base_rootfs), f"{BASE_IMAGE}:{BASE_TAG}"], tmp_path)  # fmt: skip
    uv_context = tmp_path / "uv-image"
    uv_context.mkdir()
    uv = Path(find_uv())
    for name in ("uv", "uvx"):
        source = uv.with_name(name)
        shutil.copy2(source if source.exists() else uv, uv_context / name)
    (uv_context / "Containerfile").write_text("FROM scratch\nCOPY uv uvx /\n")
    uv_version = run([str(uv), "--version"], tmp_path).stdout.split()[1]
    run([*podman, "build", "--isolation", "chroot", "--tag", f"{UV_IMAGE}:{uv_version}",
         str(uv_context)], tmp_path)  # fmt: skip

    # --layers=false: vfs stores every layer as a full copy; committing only the final image of
    # each stage makes the build and the clean-up much faster.
    build = [
        *podman, "build", "--isolation", "chroot", "--format", "docker", "--layers=false",
        "--build-arg", f"PYTHON_IMAGE={BASE_IMAGE}", "--build-arg", f"PYTHON_TAG={BASE_TAG}",
        "--build-arg", f"UV_IMAGE={UV_IMAGE}", "--build-arg", f"UV_VERSION={uv_version}",
        "--build-arg", f"GIT_COMMIT={GIT_COMMIT}", "--tag", image,
    ]  # fmt: skip
    ca_bundle = Path(os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"))
    if ca_bundle.is_file():
        build += ["--secret", f"id=ca_bundle,src={ca_bundle}"]
    run([*build, str(context)], tmp_path, timeout=900)

    inspected = json.loads(run([*podman, "image", "inspect", image], tmp_path).stdout)[0]
    assert inspected["Config"]["User"] == "10001:10001"
    health_test = inspected["Healthcheck"]["Test"]
    assert health_test[0] == "CMD" and "/health" in health_test[-1]

    port = free_port()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    name = f"mlstart-test-{port}"
    # In a container without systemd the runtime may not raise limits (podman's defaults are
    # higher than the machine's) and cannot schedule health checks: keep the machine's file
    # limit, lower the process limit, and run the image's health check command by hand below.
    run([*podman, "run", "--detach", "--name", name, "--publish", f"127.0.0.1:{port}:8000",
         "--ulimit", f"nofile={soft}:{hard}", "--ulimit", "nproc=4096:4096",
         "--no-healthcheck", image], tmp_path)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            status, health = http("GET", f"{base}/health")
            break
        except OSError:
            if time.monotonic() > deadline:
                logs = completed([*podman, "logs", name], tmp_path)
                pytest.fail(f"no answer on /health:\n{logs.stdout}\n{logs.stderr}")
            time.sleep(0.5)
    assert status == 200, health
    model = (context / "models" / "model.joblib").read_bytes()
    assert health["model_sha256"] == hashlib.sha256(model).hexdigest()
    assert health["git_commit"] == GIT_COMMIT

    status, schema = http("GET", f"{base}/schema")
    assert status == 200
    record = {
        name: spec["enum"][0] if "enum" in spec else (spec["minimum"] + spec["maximum"]) / 2
        for name, spec in schema["input"]["properties"].items()
    }
    status, scored = http("POST", f"{base}/predict", {"records": [record]})
    assert status == 200, scored
    assert len(scored["predictions"]) == 1
    status, rejected = http("POST", f"{base}/predict", {"records": []})
    assert status == 422
    assert "empty" in rejected["detail"][0]["msg"]

    # The image's own HEALTHCHECK command succeeds inside the running container.
    probe = completed([*podman, "exec", name, *health_test[1:]], tmp_path)
    assert probe.returncode == 0, probe.stderr
    subprocess.run([*podman, "stop", "--time", "5", name], capture_output=True, check=False)

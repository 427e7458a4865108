"""The container image's filesystem, built without Docker by the Dockerfile's own steps, runs.

Followed here: the build context as .dockerignore leaves it; the builder's code generation (with
the checkout's venv, which holds the same locked tree the builder installs); the image's venv
from `scripts/image_requirements.py`, with the Dockerfile's pip flags; the final stage's COPY
lines, read from the Dockerfile; the run folder owned by uid/gid 10001. Then, as that user
when the tests run as root: an emulator serves from the copy, answers the health check the
containers use and writes its records; and bootstrap's steps that need no database (keys, the
edge's config, the docs page) write the run folder.

Not proved: the base images, apt's font, the Go and npm stages (the checkout's cache of the
plugin and of Swagger UI stand in for them), paths (the copy lives in a temporary folder, so its
.pth names that folder instead of /app), nor any service that needs PostgreSQL, Consul or NATS.
Needs no mesh."""
import os
import shutil
import socket
import subprocess
import tempfile
import time

import grpc
import pytest

from scripts.mesh.layout import VENV_BIN
from scripts.mesh.tools import OPENAPI_PLUGIN, SWAGGER_UI
from services.kit.health_check import serving
from sms.v1 import sms_pb2, sms_pb2_grpc
from tests.image import copy_build_context, final_stage_copies

IMAGE_USER = 10001
AS_IMAGE_USER = ["setpriv", f"--reuid={IMAGE_USER}", f"--regid={IMAGE_USER}", "--clear-groups"] \
    if os.geteuid() == 0 else []
RUN_FOLDERS = ("", "keys", "envoy", "logs", "emulators")


def _run(command: list, **kwargs) -> subprocess.CompletedProcess:
    """`command` run to success; a failure shows what it wrote on stderr."""
    done = subprocess.run([str(part) for part in command], capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{command[:6]} failed:\n{done.stderr}"
    return done


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def image_root():
    """The image's filesystem in a temporary folder, as the Dockerfile's stages would make it."""
    if not (OPENAPI_PLUGIN.exists() and SWAGGER_UI.exists()):
        pytest.skip("needs the openapi plugin and Swagger UI in the tools' cache (./scripts/up makes them)")
    root = tempfile.mkdtemp(prefix="autosalon-image-")
    os.chmod(root, 0o755)
    builder, image = f"{root}/builder", f"{root}/image"
    try:
        _build(builder)
        for stage, source, target in final_stage_copies():
            origin = f"{builder}{source}" if stage == "builder" else str(SWAGGER_UI)
            copy = shutil.copytree if os.path.isdir(origin) else shutil.copyfile
            os.makedirs(os.path.dirname(f"{image}{target}"), exist_ok=True)
            copy(origin, f"{image}{target}")
        python = f"{image}/opt/venv/bin/python"
        purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
        with open(f"{purelib}/autosalon.pth", "w") as pth:
            pth.write(f"{image}/app\n{image}/app/gen/python\n")
        for folder in RUN_FOLDERS:
            os.makedirs(f"{image}/var/lib/autosalon/{folder}", exist_ok=True)
            if AS_IMAGE_USER:
                os.chown(f"{image}/var/lib/autosalon/{folder}", IMAGE_USER, IMAGE_USER)
        yield image
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _build(builder: str) -> None:
    """The builder stage: the context, the generated code, the image's venv, the compiled code."""
    app = f"{builder}/app"
    copy_build_context(app)
    cache = f"{builder}/opt/cache"
    os.makedirs(f"{cache}/autosalon/bin")
    shutil.copyfile(OPENAPI_PLUGIN, f"{cache}/autosalon/bin/{OPENAPI_PLUGIN.name}")
    os.chmod(f"{cache}/autosalon/bin/{OPENAPI_PLUGIN.name}", 0o755)
    _run([VENV_BIN / "python", "-m", "scripts.mesh", "generate"], cwd=app,
         env=dict(os.environ, XDG_CACHE_HOME=cache, AUTOSALON_RUN_DIR=f"{builder}/run"))
    with open(f"{builder}/image.lock", "w") as lock:
        lock.write(_run([VENV_BIN / "python", "scripts/image_requirements.py"], cwd=app).stdout)
    _run([VENV_BIN / "python", "-m", "venv", "--without-pip", f"{builder}/opt/venv"])
    _run([VENV_BIN / "pip", "--python", f"{builder}/opt/venv/bin/python", "install", "--quiet",
          "--disable-pip-version-check", "--require-hashes", "--no-deps", "--only-binary", ":all:",
          "-r", f"{builder}/image.lock"])
    _run([VENV_BIN / "python", "-m", "compileall", "-q", "--invalidation-mode", "checked-hash",
          "services", "scripts/mesh", "gen/python"], cwd=app)


def _environment(image: str, **settings) -> dict:
    """The Dockerfile's ENV, moved under the copy, and the HOME Docker takes from the user's
    passwd entry (which this machine has not); nothing of the checkout's own environment."""
    return {"PATH": f"{image}/opt/venv/bin:/usr/bin:/bin", "XDG_CACHE_HOME": f"{image}/opt/cache",
            "HOME": f"{image}/var/lib/autosalon",
            "AUTOSALON_RUN_DIR": f"{image}/var/lib/autosalon", "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1", **settings}


def _owned_by_the_image_user(path: str) -> bool:
    return not AS_IMAGE_USER or os.stat(path).st_uid == IMAGE_USER


def test_an_emulator_serves_from_the_image_as_its_user_and_writes_its_records(image_root):
    address = f"127.0.0.1:{_free_port()}"
    environment = _environment(image_root, AUTOSALON_SMS_ADDR=address, AUTOSALON_SMS_LATENCY_MS="0")
    emulator = subprocess.Popen([*AS_IMAGE_USER, f"{image_root}/opt/venv/bin/python", "-m", "services.emulators.sms"],
                                cwd=f"{image_root}/app", env=environment,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        probe = [*AS_IMAGE_USER, "python", "-m", "services.kit.health_check", address]
        for _ in range(100):
            healthy = subprocess.run(probe, cwd=f"{image_root}/app", env=environment).returncode == 0
            if healthy or emulator.poll() is not None:
                break
            time.sleep(0.2)
        assert healthy, emulator.stderr.read() if emulator.poll() is not None else "never SERVING"
        with grpc.insecure_channel(address) as channel:
            sms_pb2_grpc.SmsServiceStub(channel).SendSms(
                sms_pb2.SendSmsRequest(message_id="rehearsal-1", phone="+79161234567", text="Ваш автомобиль готов"),
                timeout=10)
        records = f"{image_root}/var/lib/autosalon/emulators/sms.json"
        assert "rehearsal-1" in open(records).read()
        assert _owned_by_the_image_user(records)
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
    assert not serving(address)


def test_bootstraps_steps_without_a_database_write_the_run_folder_as_the_image_user(image_root):
    """Keys, the edge's config and its docs page: what `scripts.mesh bootstrap` does before it
    reaches PostgreSQL, with every module bootstrap imports."""
    _run([*AS_IMAGE_USER, "python", "-c",
          "from scripts.mesh import tools\n"
          "from scripts.mesh.__main__ import _render_edge\n"
          "tools.ensure_keys()\n"
          "_render_edge()\n"],
         cwd=f"{image_root}/app", env=_environment(image_root))
    run_dir = f"{image_root}/var/lib/autosalon"
    for written in ("keys/auth-signing-key.pem", "keys/jwks.json", "envoy/envoy.yaml", "envoy/openapi.json",
                    "envoy/docs/swagger-ui-bundle.js"):
        assert os.path.exists(f"{run_dir}/{written}"), written
        assert _owned_by_the_image_user(f"{run_dir}/{written}"), written
    assert os.stat(f"{run_dir}/keys/auth-signing-key.pem").st_mode & 0o077 == 0


def test_the_image_holds_no_checkout_state_and_none_of_the_local_meshs_servers(image_root):
    assert not os.path.exists(f"{image_root}/app/.run") and not os.path.exists(f"{image_root}/app/tests")
    site_packages = _run([f"{image_root}/opt/venv/bin/python", "-c",
                          "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    installed = set(os.listdir(site_packages))
    for absent in ("envoy", "playwright", "pytest", "pip", "supervisor", "grpc_tools"):
        assert absent not in installed, absent
    assert {"grpc", "sqlalchemy", "psycopg", "nats", "reportlab"} <= installed

# One image for every Python process of the mesh (see compose.yaml); the command picks the service.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml ./
RUN python - <<'PY' > /tmp/requirements.txt && pip install --no-cache-dir -r /tmp/requirements.txt
import tomllib
print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))
PY
COPY . .
RUN python -m scripts.mesh generate \
 && printf '/app\n/app/gen/python\n' > "$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/autosalon.pth"
ENV PYTHONUNBUFFERED=1
# gRPC's classic poller: the EventEngine cost a tenth more CPU per call (scripts/mesh/supervisor.py).
ENV GRPC_EXPERIMENTS=-event_engine_listener,-event_engine_client,-event_engine_for_all_other_endpoints,-event_engine_callback_cq
USER nobody

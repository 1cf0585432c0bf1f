# One image for the four services; the entry point picks one: `aap serve <service>`.
FROM python:3.11-slim-bookworm
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
RUN pip install --no-cache-dir . && useradd --system aap && mkdir /keys && chown aap /keys
USER aap
ENV AAP_HTTP_HOST=0.0.0.0
ENTRYPOINT ["aap", "serve"]

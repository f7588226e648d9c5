# syntax=docker/dockerfile:1
# Build stage: uv installs exactly what uv.lock pins (hashes checked), the same as `make run`.
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1

RUN pip install uv==0.13.9
WORKDIR /src

# Dependencies first (a cached layer while uv.lock does not change), then the bot itself.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-install-project
COPY bot ./bot
RUN uv sync --locked --no-dev --no-editable

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH

# DejaVu Sans: the /usage pictures' labels in Cyrillic (Pillow's own font has Latin letters only).
# Not pinned: a font whose version follows the base image's Debian release, which it pins.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 bot
COPY --from=build /opt/venv /opt/venv
WORKDIR /home/bot

# /healthz, /readyz and /metrics (and the webhook, in webhook mode) listen here. The health
# server listens on 127.0.0.1 unless HTTP_HOST says otherwise (compose.yaml publishes it).
ENV HTTP_PORT=8080
EXPOSE 8080

# Without REDIS_URL the data is kept here: mount a volume on it to keep it across containers.
ENV DATA_DIR=/app/data
RUN mkdir -p /app/data && chown 10001 /app/data
VOLUME /app/data

USER 10001
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('HTTP_PORT', '8080')}/healthz\", timeout=4)"]
CMD ["python", "-m", "bot"]

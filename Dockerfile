# syntax=docker/dockerfile:1
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 bot
WORKDIR /app

# Dependencies first (cached layer), the same install the Makefile does, without dev extras.
COPY pyproject.toml ./
RUN mkdir bot && touch bot/__init__.py && pip install . && rm -rf bot build

COPY bot ./bot
RUN pip install --no-deps .

# /healthz, /readyz and /metrics (and the webhook, in webhook mode) listen here.
ENV HTTP_PORT=8080
EXPOSE 8080

# Without REDIS_URL the data is kept here: mount a volume on it to keep it across containers.
RUN mkdir /app/data && chown 10001 /app/data
VOLUME /app/data

USER 10001
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('HTTP_PORT', '8080')}/healthz\", timeout=4)"]
CMD ["python", "-m", "bot"]

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

USER 10001
CMD ["python", "-m", "bot"]

# factwatch daemon image. Build: docker build -t factwatch .   Run: see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Pinned versions first, so the dependency layer is cached until constraints.txt changes.
COPY pyproject.toml constraints.txt README.md ./
COPY factwatch ./factwatch
COPY crawler ./crawler
COPY pipeline ./pipeline
COPY alerts ./alerts
COPY config ./config
RUN pip install -c constraints.txt '.[postgres]' \
    && useradd --create-home --uid 10001 factwatch \
    && mkdir -p /data && chown factwatch /data

USER factwatch
WORKDIR /data
# SQLite file, WARC archive and anything else the daemon writes live under /data (a volume in compose).
ENV FACTWATCH_DB=sqlite:////data/factwatch.db \
    FACTWATCH_DATA=/data/factwatch-data \
    FACTWATCH_HEALTH_PORT=8787 \
    FACTWATCH_LOG_FORMAT=json

# Inside the container only: the health endpoint binds to 127.0.0.1 (factwatch.health defaults).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8787/healthz', timeout=4)"]

# SIGTERM (docker stop) makes the daemon finish or stop its crawl, flush alerts and exit 0; allow it the
# 20 s crawl grace plus delivery: `docker stop -t 60` / compose `stop_grace_period`.
STOPSIGNAL SIGTERM
CMD ["factwatch", "daemon"]

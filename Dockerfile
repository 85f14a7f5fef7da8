# One image for every ideaforge process: web, worker, scheduler, model (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY agents ./agents
COPY workers ./workers
COPY ideaforge ./ideaforge
# the embedded model's parts (1.1 GB) only when asked: docker build --build-arg EXTRAS=local .
ARG EXTRAS=""
RUN pip install ".${EXTRAS:+[$EXTRAS]}" \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin ideaforge \
    && mkdir -p /data/digests \
    && chown -R ideaforge:ideaforge /data

USER ideaforge
ENV IDEAFORGE_DIGEST_DIR=/data/digests \
    IDEAFORGE_LOG_FORMAT=json
EXPOSE 8000
CMD ["ideaforge", "--help"]

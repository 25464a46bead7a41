# backprop-live in one container: `docker build -t backprop-live .` then
# `docker run -p 8000:8000 -v backprop-data:/data -e BACKPROP_TOKEN=... backprop-live`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    BACKPROP_DB_PATH=/data/runs.db

WORKDIR /app
COPY pyproject.toml README.md ./
COPY app ./app
COPY templates ./templates
COPY static ./static
RUN pip install . && useradd --create-home --uid 1000 backprop && mkdir /data \
    && chown backprop /data
USER backprop
VOLUME /data
EXPOSE 8000

# Inside a container the app must listen on all interfaces to be reachable through -p; a
# non-loopback host needs a token (BACKPROP_TOKEN or --token), set at `docker run`.
# `python -m app` from /app (rather than the installed console script) because the pages find
# templates/ and static/ next to the package source, which `pip install .` does not copy.
CMD ["python", "-m", "app", "serve", "--host", "0.0.0.0", "--port", "8000"]

# backprop-live in one container: `docker build -t backprop-live .` then
# `docker run -p 8000:8000 -v backprop-data:/data -e BACKPROP_TOKEN=... backprop-live`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    BACKPROP_DB_PATH=/data/runs.db

# A normal install: the wheel carries the templates and static files (pyproject.toml maps them
# into the package), so the sources are not needed once it is installed.
COPY pyproject.toml README.md /tmp/backprop-live/
COPY app /tmp/backprop-live/app
COPY templates /tmp/backprop-live/templates
COPY static /tmp/backprop-live/static
RUN pip install /tmp/backprop-live && rm -rf /tmp/backprop-live \
    && useradd --create-home --uid 1000 backprop && mkdir /data && chown backprop /data
USER backprop
WORKDIR /home/backprop
VOLUME /data
EXPOSE 8000

# Inside a container the app must listen on all interfaces to be reachable through -p; a
# non-loopback host needs a token (BACKPROP_TOKEN or --token), set at `docker run`.
# The server answers only the Host names in BACKPROP_ALLOWED_HOSTS (comma-separated, no ports;
# by default localhost, 127.0.0.1 and ::1, plus 0.0.0.0 as the bound address), so browsers that
# reach it by a LAN address or name get 400 until that list names it. The list replaces the
# default, so keep localhost in it, e.g.
# `-e BACKPROP_ALLOWED_HOSTS=localhost,127.0.0.1,192.168.1.20,classroom.local` ("*" for any).
CMD ["backprop-live", "serve", "--host", "0.0.0.0", "--port", "8000"]

# The Charla image: `charla serve` by default; compose.yaml also runs `charla migrate` and
# `charla worker` from it.
#
# Layers from the least to the most often changed: the dependencies (the runtime lock,
# requirements/runtime.lock, written by .ci/lock: one version of each, checked against its
# hashes) are one cached layer that a code change does not rebuild; the code comes after.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
RUN useradd --system --home /var/lib/charla charla \
    && mkdir -p /var/lib/charla/files && chown -R charla /var/lib/charla
COPY requirements/runtime.lock /tmp/runtime.lock
RUN pip install --no-cache-dir --require-hashes -r /tmp/runtime.lock && rm /tmp/runtime.lock
COPY pyproject.toml README.md ./
COPY bots ./bots
COPY integrations ./integrations
COPY console ./console
RUN pip install --no-cache-dir --no-deps .
USER charla
ENV CHARLA_HOST=0.0.0.0 CHARLA_PORT=8080 CHARLA_DATA_DIR=/var/lib/charla
EXPOSE 8080
# Alive: the event loop answers (/livez asks nothing else; readiness is compose's and
# Kubernetes' own check, on /readyz). `charla worker` and `charla migrate` override it.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/livez' % os.environ.get('CHARLA_PORT', '8080'), timeout=3)"]
CMD ["charla", "serve"]

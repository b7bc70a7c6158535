# The Charla image: `charla serve` by default; compose.yaml also runs `charla migrate` and
# `charla worker` from it.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY console ./console
COPY bots ./bots
COPY integrations ./integrations
RUN pip install --no-cache-dir . && useradd --system --home /var/lib/charla charla \
    && mkdir -p /var/lib/charla && chown charla /var/lib/charla
USER charla
ENV CHARLA_HOST=0.0.0.0 CHARLA_PORT=8080 CHARLA_DATA_DIR=/var/lib/charla
EXPOSE 8080
CMD ["charla", "serve"]

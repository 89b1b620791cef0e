# portal-notifier: the service in one image. Untested here (see README, "Deployment").
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY jobs ./jobs
COPY storage ./storage
RUN pip install . && useradd --system --home /app notifier && mkdir -p /app/data \
    && chown notifier /app/data
USER notifier

# The HTTP server (webhook, /healthz, /metrics) listens on every interface in a container.
ENV LISTEN_HOST=0.0.0.0 LISTEN_PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
ENTRYPOINT ["portal-notifier"]
CMD ["run"]

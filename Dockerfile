# One image for every role: migrate, web, worker, beat (see docker-compose.yml).
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
      fonts-dejavu-core fonts-noto-core fonts-liberation fontconfig \
 && rm -rf /var/lib/apt/lists/* \
 && { fc-list | grep -q "Liberation Serif" || { echo "fonts-liberation is missing: letters are set in Liberation Serif" >&2; exit 1; }; } \
 && useradd --create-home --uid 1000 tkm \
 && mkdir -p /data && chown tkm:tkm /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY tkm ./tkm
COPY templates ./templates
COPY workflows ./workflows
# Editable install: templates/ and workflows/ are read from /app beside the package.
RUN pip install --no-cache-dir -e . \
 && python -m tkm.core.syscheck

USER tkm
ENV TKM_DATA_DIR=/data PYTHONUNBUFFERED=1
EXPOSE 8000
CMD ["tkm", "serve", "--host", "0.0.0.0", "--port", "8000"]

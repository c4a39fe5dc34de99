# The OMS as one image: web (gunicorn), worker and beat all run from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 1000 oms \
    && useradd --system --uid 1000 --gid oms --create-home --home-dir /home/oms oms \
    && mkdir -p /app/var/media /app/var/static \
    && chown -R oms:oms /app

WORKDIR /app

# Dependencies first: this layer is rebuilt only when pyproject.toml changes.
# (The project installs no packages of its own; it runs from /app.)
COPY pyproject.toml README.md ./
RUN pip install .

COPY --chown=oms:oms . .
USER oms

# Static files are collected at build time; the production settings need a secret
# and hosts to load, so this one step gets throwaway values that are not kept.
RUN DJANGO_SETTINGS_MODULE=config.settings.production \
    SECRET_KEY=collectstatic-only-not-a-secret \
    ALLOWED_HOSTS=localhost \
    REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput

ENV DJANGO_SETTINGS_MODULE=config.settings.production
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]

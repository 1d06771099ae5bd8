FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
RUN pip install --upgrade pip setuptools && pip install .
COPY . .
# Static files are collected into the image and served by the app itself (WhiteNoise).
RUN DEBUG=true python manage.py collectstatic --noinput

RUN useradd --system --uid 1000 smshub && mkdir -p /app/var/beat && chown -R smshub /app/var
USER smshub
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]

"""The one settings module. Every deployment difference comes from the environment.

The variables are listed in the README's configuration table and read through the strict
helpers of ``config.env``. With nothing set, the project runs on embedded defaults (SQLite
and Celery's filesystem transport under ``var/``), so a fresh machine needs no services.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import django_stubs_ext
import drf_spectacular_sidecar
from csp.constants import NONE, SELF

from config.env import (
    database_from_url,
    email_from_env,
    env_bool,
    env_email_address,
    env_fernet_keys,
    env_int,
    env_list,
    env_required,
    env_str,
    env_url,
)

# Lets classes such as ModelAdmin be subscripted at run time, as their type stubs are.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DEBUG", False)

if DEBUG:
    # Development only: a fixed key keeps sessions alive across restarts of `make run`.
    SECRET_KEY = env_str("SECRET_KEY") or "django-insecure-development-key-never-used-in-production"
else:
    SECRET_KEY = env_required("SECRET_KEY", "when DEBUG is off")

FIELD_ENCRYPTION_KEYS = env_fernet_keys("FIELD_ENCRYPTION_KEYS", required=not DEBUG)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])

PUBLIC_BASE_URL = env_url("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
TWILIO_API_BASE_URL = env_url("TWILIO_API_BASE_URL", "https://api.twilio.com")
TWILIO_MESSAGING_BASE_URL = env_url("TWILIO_MESSAGING_BASE_URL", "https://messaging.twilio.com")
TWILIO_PRICING_BASE_URL = env_url("TWILIO_PRICING_BASE_URL", "https://pricing.twilio.com")
# Proxies in front of the app that append the client's address to X-Forwarded-For
# (tenants/client_address.py); 0 means clients connect directly and REMOTE_ADDR is theirs.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Outbound webhooks may reach private addresses and plain http:// (a receiver on this
# machine, for development only): tenants/outbound/addresses.py.
OUTBOUND_WEBHOOKS_ALLOW_PRIVATE = env_bool("OUTBOUND_WEBHOOKS_ALLOW_PRIVATE", False)
# Each API key's rate limit unless its organization sets its own (tenants/api_ratelimit.py).
API_RATE_LIMIT = env_int("API_RATE_LIMIT", 20, minimum=1)  # requests per second
API_BURST = env_int("API_BURST", 100, minimum=1)  # requests at once

# --- Applications -------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "tenants",
    "tenants.outbound",
    "tenants.audit",
    "connections",
    "contacts",
    "templates_sms",
    "messaging",
    "automations",
    "reports",
    "sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "tenants.middleware_input.NulRefusalMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "tenants.access.OrganizationMiddleware",
    "tenants.audit.context.AuditRequestMiddleware",
    "tenants.caching.PrivateCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, so its redirects carry every header the middleware above adds.
    "tenants.two_factor.middleware.TwoFactorMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.shell",
            ],
        },
    },
]

# --- Data ---------------------------------------------------------------------------------

DATABASES = {"default": database_from_url("DATABASE_URL", VAR_DIR / "db.sqlite3")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    env_url("REDIS_URL", REDIS_URL, schemes=("redis", "rediss"))
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery (the app itself is in config/celery.py) ---------------------------------------

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
if CELERY_BROKER_URL:
    env_url("CELERY_BROKER_URL", CELERY_BROKER_URL, schemes=("redis", "rediss", "amqp", "amqps"))
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
else:
    # Embedded default: one folder is both ends of every queue, shared by the web server,
    # the workers and beat on this machine.
    CELERY_BROKER_URL = "filesystem://localhost//"
    for folder in ("queue", "control"):
        (VAR_DIR / "celery" / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "celery" / "queue"),
        "data_folder_out": str(VAR_DIR / "celery" / "queue"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        # A worker looks for new tasks ten times a second (kombu's default, once a second, is a
        # second's delay on every step of an event's way to Twilio).
        "polling_interval": 0.1,
    }
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Users and sign-in --------------------------------------------------------------------

AUTH_USER_MODEL = "tenants.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Two-factor sign-in (tenants/two_factor/): the name authenticator apps show for the account.
OTP_TOTP_ISSUER = "SMS Hub"
# Wrong codes are counted per account across sign-ins and pages (tenants.two_factor.services);
# django-otp's own back-off would also refuse the right code typed a second after a typo.
OTP_TOTP_THROTTLE_FACTOR = 0
# The Django admin shows no device's secret key.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# EMAIL_URL or EMAIL_HOST…; the console (which is the log) only with DEBUG on.
_email = email_from_env(debug=DEBUG)
EMAIL_BACKEND = _email.backend
EMAIL_HOST = _email.host
EMAIL_PORT = _email.port
EMAIL_HOST_USER = _email.user
EMAIL_HOST_PASSWORD = _email.password
EMAIL_USE_TLS = _email.use_tls
EMAIL_USE_SSL = _email.use_ssl
EMAIL_TIMEOUT = _email.timeout
DEFAULT_FROM_EMAIL = env_email_address(
    "DEFAULT_FROM_EMAIL", f"SMS Hub <no-reply@{urlsplit(PUBLIC_BASE_URL).hostname}>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation -----------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files: served by the app itself (WhiteNoise), never from a CDN -----------------

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# Swagger UI for /api/v1/docs/, from drf-spectacular-sidecar's files as /static/swagger-ui/
# (its folder only: the app would bring Redoc's 5 MB too, collected for nothing).
STATICFILES_DIRS = [
    (
        "swagger-ui",
        Path(drf_spectacular_sidecar.__file__).parent
        / "static"
        / "drf_spectacular_sidecar"
        / "swagger-ui-dist",
    )
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- API ----------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["tenants.api_auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["tenants.api_auth.HasRole"],
    "EXCEPTION_HANDLER": "tenants.api_base.exception_handler",
    "UNAUTHENTICATED_USER": None,
    # The OpenAPI schema (/api/v1/schema/) is generated from the views: tenants.api_schema.
    "DEFAULT_SCHEMA_CLASS": "tenants.api_schema.ApiAutoSchema",
}

# /api/v1/schema/ and /api/v1/docs/ are public: they describe the API, no organization's data.
SPECTACULAR_SETTINGS = {
    "TITLE": "SMS Hub API",
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "tenants.models.Role.choices",
        "ApiKeyRoleEnum": "tenants.serializers.API_KEY_ROLE_CHOICES",
        "SourceEnum": "tenants.sources.Source.choices",
        "AutomationStateEnum": "automations.models.State.choices",
        "StartedLaunchKindEnum": "automations.serializers_launch.STARTED_KINDS",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tenants.api_schema.postprocess",
    ],
}

# --- Security -----------------------------------------------------------------------------

# TLS ends at the proxy in front of the app, which says so in X-Forwarded-Proto. With no proxy
# in front (TRUSTED_PROXY_COUNT=0) the header comes from the client and proves nothing.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT else None
SECURE_SSL_REDIRECT = not DEBUG
# Load balancers probe plain HTTP; the health check must answer them, not redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = 0 if DEBUG else 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = not DEBUG
CSRF_TRUSTED_ORIGINS = [
    "{0.scheme}://{0.netloc}".format(urlsplit(PUBLIC_BASE_URL)),
]
X_FRAME_OPTIONS = "DENY"

# Django 5.2 has no content security policy of its own; django-csp sends it. Every script
# and stylesheet is a file served by the app, so nothing inline is allowed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Logging: stdout, one line per event, secrets masked ----------------------------------

# Django's error reports (the email to ADMINS, the debug page) masked as log lines are.
DEFAULT_EXCEPTION_REPORTER = "config.logging.RedactingExceptionReporter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "config.logging.RedactSecretsFilter"}},
    "formatters": {"line": {"()": "config.logging.OneLineFormatter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "line",
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["stdout"], "level": "INFO"},
    "loggers": {
        "django": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "celery": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        # gunicorn's request lines and errors, once a worker has loaded the app: through the
        # same handler, so the secrets in token-bearing paths are masked there too.
        "gunicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "gunicorn.error": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        # The twilio library logs every request over several lines; our seam logs one line.
        "twilio": {"handlers": ["stdout"], "level": "WARNING", "propagate": False},
    },
}

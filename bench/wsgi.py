"""The app as it runs behind its proxy (``bench.stack.behind_proxy``), routed through
bench.urls (adds the empty view and the callbacks' floor)."""

import os

import django
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
settings.ROOT_URLCONF = "bench.urls"

from bench.stack import behind_proxy  # noqa: E402

application = behind_proxy()

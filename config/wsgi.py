import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# The URLconf and every view it names, imported as the worker starts rather than by the first
# request it answers: on 2 cores that first request took 0.63 s against 2 ms after it, a
# delay every web worker's first caller paid after a deploy or a restart (Twilio's callbacks
# and inbound messages included).
get_resolver().url_patterns  # noqa: B018 - imported for its side effect

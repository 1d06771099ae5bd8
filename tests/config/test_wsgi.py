"""config.wsgi imports the URLconf and its views as a web worker starts, so the first request
a worker answers does not pay for them."""

import subprocess
import sys

from django.conf import settings

PROBE = """
import sys
import django
views = ("contacts.api_urls", "automations.views_builder")
django.setup()
before = sorted(name for name in views if name in sys.modules)
import config.wsgi
print(before, sorted(name for name in views if name in sys.modules))
"""


def test_the_wsgi_application_loads_every_view_before_its_first_request():
    child = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    assert child.stdout.strip() == "[] ['automations.views_builder', 'contacts.api_urls']"

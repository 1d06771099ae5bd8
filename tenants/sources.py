"""Where a change came from: one vocabulary for the ``source`` of every event a room
announces (contacts, consent, messages) and of every message.

Higher rooms filter and explain by it ("sent by an automation", "tagged by an import"), so
the words are a public interface: API values and event payloads.
"""

from django.db import models


class Source(models.TextChoices):
    UI = "ui", "A person in the app"
    API = "api", "The REST API"
    IMPORT = "import", "A CSV import"
    INBOUND = "inbound", "A text from the contact"
    WEBHOOK = "webhook", "A webhook (Twilio's status callbacks, an automation's incoming webhook)"
    AUTOMATION = "automation", "An automation"
    TEST = "test", "A test send from the Connection Center"
    SYSTEM = "system", "SMS Hub's own background work (the send task, the sweeper)"

from __future__ import annotations

import pytest

from tests.factories import Personas
from tests.security.fuzzing import World, make_world


@pytest.fixture
def world(personas: Personas) -> World:
    """Two organizations, each connected to its own Twilio account, with a message handed to
    Twilio and an active incoming-webhook automation each (``tests.security.fuzzing``)."""
    return make_world(personas)

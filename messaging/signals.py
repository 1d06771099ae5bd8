"""Events the messaging room announces to higher rooms (automations listen).

``inbound_received`` is sent after the inbound message's transaction commits, with
``organization_id``, ``contact_ids`` ([the contact's id]), ``source`` ("inbound"),
``message_id``, ``contact_id``, ``body`` and ``is_keyword`` (whether it was a consent word).
"""

from django.dispatch import Signal

inbound_received = Signal()

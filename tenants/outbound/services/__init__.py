"""What other rooms call: ``event_record`` / ``events_record`` inside the transaction of the
change they announce, and ``wanted`` before they read or serialize anything for it."""

from tenants.outbound.services.events import event_record, events_record, in_utc, wanted

__all__ = ["event_record", "events_record", "in_utc", "wanted"]

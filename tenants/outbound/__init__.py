"""Outbound webhooks: events of every room posted to the tenant's own systems, signed as the
Standard Webhooks specification says (docs/architecture.md, "Outbound webhooks").

A sub-app of the lowest room so that every room may record events: ``services.event_record``
/ ``services.events_record``, in the transaction of the change (an outbox), with the
resource as that room's API shows it.
"""

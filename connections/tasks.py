import logging

from celery import shared_task

from connections.services.usage import usage_connection_ids, usage_refresh_by_id

logger = logging.getLogger(__name__)


@shared_task(name="connections.tasks.refresh_usage_records")
def refresh_usage_records() -> int:
    """Beat, hourly: one ``refresh_usage`` per connected Twilio account, so each runs (and
    fails, or times out) on its own. Returns how many were enqueued."""
    enqueued = 0
    for connection_id in usage_connection_ids():
        try:
            refresh_usage.delay(connection_id)
        except Exception:
            # A broker that refused one (or, with tasks run eagerly, the task itself failing)
            # must not cost the connections after it their refresh.
            logger.exception("usage refresh of connection %s not enqueued", connection_id)
            continue
        enqueued += 1
    return enqueued


@shared_task(name="connections.tasks.refresh_usage")
def refresh_usage(connection_id: int, force: bool = False) -> bool:
    """One connection's usage figures from Twilio (skipped when fetched within the hour,
    unless ``force``)."""
    return usage_refresh_by_id(connection_id=connection_id, force=force)

from celery import shared_task

from config.celery import app


@shared_task(name="tests.tasks.send_probe")
def send_probe() -> None:
    """Shaped like a sending task: ``<app>.tasks.send_*``."""


@shared_task(name="tests.tasks.cleanup_probe")
def cleanup_probe() -> None:
    """Any other task."""


def test_it_speaks_json_only():
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"
    assert app.conf.result_serializer == "json"


def test_it_routes_sending_tasks_to_the_send_queue_with_late_ack():
    route = app.amqp.router.route({}, send_probe.name)
    assert route["queue"].name == "send"
    task = app.tasks[send_probe.name]
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True


def test_it_routes_other_tasks_to_the_default_queue_with_time_limits():
    route = app.amqp.router.route({}, cleanup_probe.name)
    assert route["queue"].name == "default"
    assert app.tasks[cleanup_probe.name].acks_late is False
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit


def test_every_scheduled_task_exists():
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert scheduled
    assert scheduled <= set(app.tasks)

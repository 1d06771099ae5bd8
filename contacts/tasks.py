from celery import shared_task

from contacts.imports.files import imports_sweep
from contacts.imports.run import import_work, imports_resume


@shared_task(name="contacts.tasks.work_import", acks_late=True, reject_on_worker_lost=True)
def work_import(import_id: int) -> None:
    """An import's batches for a while; then the rest in a fresh task."""
    if import_work(import_id):
        work_import.delay(import_id)


@shared_task(name="contacts.tasks.resume_imports")
def resume_imports() -> int:
    return imports_resume()


@shared_task(name="contacts.tasks.remove_old_import_files")
def remove_old_import_files() -> int:
    return imports_sweep()

"""CSV imports at volume on PostgreSQL: N / 10 and N rows from upload to every contact
written, the run in a worker process whose peak memory is measured (is the cost linear?).

Creates a scratch database (``test_<name>`` next to ``DATABASE_URL``'s) with one organization,
then for each size a CSV as a CRM exports it (phone written as a person would, first and last
name, e-mail, two tags, a birthday and a plan; 1% of the rows without a phone, 1% repeating an
earlier number, 1% of the numbers opted out beforehand), uploaded as the page does (checked
whole, stored in parts) and run with the consent statement and a tag for every contact, its
task in a fresh worker process (``--work``), as a Celery worker runs ``work_import``. Figures
go to ``bench/results/contacts_import.json`` (``contacts_import_smoke.json`` with ``--smoke``).
Targets (issue 14): 100,000 rows under 60 s; the worker under 300 MB; 10 times the rows at
most 1.3 times the cost per row.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub \\
        .venv/bin/python -m bench.contacts_import [--rows 100000 | --smoke]
"""

from __future__ import annotations

import argparse
import io
import json
import time

# isort: off
import bench.pages  # noqa: F401 - sets Django up: before any model

# isort: on

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.utils import setup_databases, teardown_databases

from bench.pages import machine, require_postgresql
from bench.results import Figure, git_commit, write
from bench.stack import peak_mb, worker_part
from contacts.imports.run import import_work
from contacts.imports.services import import_start, import_upload
from contacts.models import ConsentSource, ContactImport
from contacts.services.consent import consent_opt_out
from tenants.models import Organization, User
from tenants.services.organizations import organization_create

SMOKE = 10_000  # a tenth of the full run
ROWS_SECONDS = 60.0 / 100_000
WORKER_MB = 300.0
LINEAR = 1.3


def csv_file(rows: int, start: int) -> bytes:
    """``rows`` data rows, numbers from ``start`` on (so two files do not overlap)."""
    out = io.StringIO()
    out.write("Phone,First Name,Last Name,E-mail,Tags,Birthday,Plan\r\n")
    for n in range(rows):
        number = start + (n - 1 if n % 100 == 50 else n)  # 1%: the number of the row before
        phone = "" if n % 100 == 99 else f"(415) {200 + number // 10_000:03d}-{number % 10_000:04d}"
        month, day = 1 + n % 12, 1 + n % 28
        out.write(
            f'{phone},First{n},Last{n},person{number}@example.com,"customer, wave{n % 5}",'
            f"19{50 + n % 50}-{month:02d}-{day:02d},{('gold', 'silver', 'bronze')[n % 3]}\r\n"
        )
    return out.getvalue().encode()


def work(import_id: int) -> None:
    """The worker's part, in its own process: the import's task until it is done."""
    began = time.perf_counter()
    while import_work(import_id, budget_seconds=float("inf")):
        pass
    print(json.dumps({"seconds": time.perf_counter() - began, "peak_mb": peak_mb()}))


def imported(organization: Organization, by: User, rows: int, start: int) -> dict[str, float]:
    content = csv_file(rows, start)
    for n in range(0, rows, 100):  # 1% opted out beforehand
        number = start + n
        phone = f"+1415{200 + number // 10_000:03d}{number % 10_000:04d}"
        consent_opt_out(organization=organization, phone=phone, source=ConsentSource.USER)
    began = time.perf_counter()
    upload = SimpleUploadedFile("crm-export.csv", content, content_type="text/csv")
    contact_import = import_upload(organization=organization, file=upload, by=by)
    uploaded = time.perf_counter() - began
    import_start(contact_import=contact_import, options={"consent": True, "tags": ["imported"]})
    worker = worker_part("bench.contacts_import", "--work", str(contact_import.pk))
    contact_import = ContactImport.objects.get(pk=contact_import.pk)
    assert contact_import.state == "completed", contact_import.error
    return {
        "rows": contact_import.total,
        "megabytes": round(len(content) / 1024 / 1024, 1),
        "created": contact_import.created,
        "errors": contact_import.errors,
        "opted_out": contact_import.opted_out,
        "upload_seconds": uploaded,
        "worker_seconds": worker["seconds"],
        "seconds": uploaded + worker["seconds"],
        "peak_mb": worker["peak_mb"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE:,} rows (CI)")
    parser.add_argument("--work", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.work:
        return work(options.work)
    count = SMOKE if options.smoke else options.rows
    require_postgresql()
    databases = setup_databases(verbosity=0, interactive=False)
    try:
        about = machine()
        print(about)
        owner = User.objects.create_user("bench@example.com", "bench-password-123")
        organization = organization_create(name="Import bench", owner=owner)
        small = imported(organization, owner, count // 10, 0)
        big = imported(organization, owner, count, count)
        for got in (small, big):
            print(
                f"import of {got['rows']:,} rows ({got['megabytes']} MB): {got['seconds']:.1f} s "
                f"(upload {got['upload_seconds']:.1f} s, run {got['worker_seconds']:.1f} s): "
                f"{got['created']:,} created, {got['errors']:,} errors, {got['opted_out']:,} "
                f"opted out; worker peak {got['peak_mb']:.0f} MB"
            )
        growth = (big["seconds"] / big["rows"]) / (small["seconds"] / small["rows"])
        print(f"cost per row at {big['rows']:,} / at {small['rows']:,}: {growth:.2f}")
        write(
            "contacts_import_smoke" if options.smoke else "contacts_import",
            [
                Figure(
                    f"import of {count:,} rows: upload to every contact written",
                    round(big["seconds"], 1),
                    "s",
                    target=round(count * ROWS_SECONDS, 1),
                    higher_is_better=False,
                ),
                Figure(
                    "import worker's peak memory",
                    round(big["peak_mb"]),
                    "MB",
                    target=WORKER_MB,
                    higher_is_better=False,
                ),
                Figure(
                    "cost per row, 10x the rows vs 1x",
                    round(growth, 2),
                    "ratio",
                    target=LINEAR,
                    higher_is_better=False,
                ),
            ],
            postgresql=about.rsplit("PostgreSQL ", 1)[-1],
            rows=count,
            small=small,
            big=big,
            commit=git_commit(),
        )
    finally:
        teardown_databases(databases, verbosity=0)


if __name__ == "__main__":
    main()

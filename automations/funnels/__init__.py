"""Reads behind the automation pages: the live version's funnel per step and its A/B results
(``funnel``), the enrolments in numbers, a contact's enrolments step by step ("why didn't this
contact get it?") and a dry run's lines (``enrolments``), the step a message came from and the
automations a template is protected by (``lookups``), and the words they share (``words``).

Every read costs a fixed number of queries whatever the volume (each says how many), never a
query per enrolment or per message.
"""

from automations.funnels.enrolments import (
    contact_run_lines,
    dry_run_lines,
    enrolment_summary,
    latest_runs,
    run_status,
)
from automations.funnels.funnel import version_funnel
from automations.funnels.lookups import message_step, template_users
from automations.funnels.words import reason_words, template_names

__all__ = [
    "contact_run_lines",
    "dry_run_lines",
    "enrolment_summary",
    "latest_runs",
    "message_step",
    "reason_words",
    "run_status",
    "template_names",
    "template_users",
    "version_funnel",
]

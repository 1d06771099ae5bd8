from __future__ import annotations

import datetime
from typing import Any

from django import forms

from tenants.access import organization_zone
from tenants.audit.models import Action, TargetType
from tenants.audit.selectors import AuditFilter, audit_actors
from tenants.models import Organization

# Days any database and time zone can represent.
FIRST_DAY = datetime.date(2000, 1, 1)
LAST_DAY = datetime.date(2999, 12, 31)


class DateInput(forms.DateInput):
    input_type = "date"


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label="Action", required=False)
    actor = forms.ChoiceField(label="Who", required=False)
    target_type = forms.ChoiceField(label="Target", required=False)
    date_from = forms.DateField(label="From", required=False, widget=DateInput)
    date_to = forms.DateField(label="To", required=False, widget=DateInput)

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = organization_zone(organization)
        self.fields["action"].choices = [("", "Any action"), *Action.choices]  # type: ignore[attr-defined]
        self.fields["actor"].choices = [("", "Anyone"), *audit_actors(organization)]  # type: ignore[attr-defined]
        self.fields["target_type"].choices = [("", "Anything"), *TargetType.choices]  # type: ignore[attr-defined]

    def _day(self, name: str) -> datetime.date | None:
        day: datetime.date | None = self.cleaned_data.get(name)
        if day is not None and not (FIRST_DAY <= day <= LAST_DAY):
            raise forms.ValidationError(
                f"Choose a day between {FIRST_DAY:%Y-%m-%d} and {LAST_DAY:%Y-%m-%d}."
            )
        return day

    def clean_date_from(self) -> datetime.date | None:
        return self._day("date_from")

    def clean_date_to(self) -> datetime.date | None:
        return self._day("date_to")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        since, until = data.get("date_from"), data.get("date_to")
        if since and until and since > until:
            self.add_error("date_to", "The last day comes after the first.")
        return data

    def _start_of(self, day: datetime.date | None) -> datetime.datetime | None:
        if day is None:
            return None
        return datetime.datetime.combine(day, datetime.time.min, tzinfo=self.zone)

    def filters(self) -> AuditFilter:
        """The valid filters (one that is not valid is left out, and reported on the page)."""
        data = getattr(self, "cleaned_data", {})
        date_to = data.get("date_to")
        return AuditFilter(
            action=data.get("action") or "",
            actor=data.get("actor") or "",
            target_type=data.get("target_type") or "",
            since=self._start_of(data.get("date_from")),
            # The whole last day, in the organization's zone.
            until=self._start_of(date_to + datetime.timedelta(days=1)) if date_to else None,
        )

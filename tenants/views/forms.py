from django import forms

from tenants.errors import ApplicationError


def apply_error(form: forms.BaseForm, error: ApplicationError) -> None:
    """Shows a service's error on the form: on its fields when it names them."""
    fields = {f: m for f, m in error.fields.items() if f in form.fields}
    for field, field_messages in fields.items():
        for message in field_messages:
            form.add_error(field, message)
    if not fields:
        form.add_error(None, error.message)

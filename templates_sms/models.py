from __future__ import annotations

import uuid

from django.db import models

from templates_sms.segments import MAX_TEXT
from tenants.models import Organization, User


class SmsTemplate(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="sms_templates"
    )
    name = models.CharField(max_length=120)
    body = models.TextField(max_length=MAX_TEXT)
    media_url = models.URLField(max_length=500, blank=True)
    append_opt_out_footer = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(
                fields=("organization", "name"), name="template_name_unique_per_organization"
            )
        ]

    def __str__(self) -> str:
        return self.name

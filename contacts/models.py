from __future__ import annotations

import uuid

from django.db import models
from django.db.models.functions import Lower

from tenants.models import Organization, User

# Opted-out contacts carry this tag. Only the consent services add or remove it.
OPT_OUT_TAG = "Twilio-Message-stop"


def is_reserved_tag(name: str) -> bool:
    return name.strip().lower() == OPT_OUT_TAG.lower()


class Tag(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(
                "organization", Lower("name"), name="tag_name_unique_per_organization"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_reserved(self) -> bool:
        return is_reserved_tag(self.name)


def search_text(first_name: str, last_name: str, email: str, phone: str) -> str:
    """What a contact's ``search`` holds: names, e-mail and the number's digits, lower-cased."""
    return f"{first_name} {last_name} {email} {phone.lstrip('+')}".lower()


class Contact(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contacts"
    )
    phone = models.CharField(max_length=16, help_text="E.164")
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    time_zone = models.CharField(max_length=64)
    custom_fields = models.JSONField(default=dict, blank=True)
    # Lower-cased name, email and phone digits, for "contains" search (trigram-indexed on
    # PostgreSQL). Kept in step by the contact services.
    search = models.TextField(default="", editable=False)
    tags: models.ManyToManyField[Tag, ContactTag] = models.ManyToManyField(
        Tag, through="ContactTag", related_name="contacts"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("organization", "phone"), name="contact_phone_unique_per_organization"
            )
        ]
        indexes = [
            models.Index(fields=("organization", "-created_at"), name="contact_org_created"),
            models.Index(
                fields=("organization", "last_name", "first_name"), name="contact_org_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.phone

    def __repr__(self) -> str:
        return f"<Contact {self.public_id} org={self.organization_id}>"

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def search_text(self) -> str:
        return search_text(self.first_name, self.last_name, self.email, self.phone)


class ContactTag(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=("contact", "tag"), name="contact_tag_once")]

    def __str__(self) -> str:
        return f"contact {self.contact_id} tagged {self.tag_id}"


class ConsentKind(models.TextChoices):
    OPT_OUT = "opt_out", "Opted out"
    OPT_IN = "opt_in", "Opted in"
    HELP = "help", "Asked for help"


class ConsentSource(models.TextChoices):
    INBOUND_KEYWORD = "inbound_keyword", "Replied with a keyword"
    TWILIO_OPT_OUT_TYPE = "twilio_opt_out_type", "Twilio's opt-out handling"
    TWILIO_ERROR_21610 = "twilio_21610", "Twilio refused: recipient unsubscribed (21610)"
    USER = "user", "Changed by a user"
    IMPORT = "import", "Import"


# An opt-out from these sources came from the person; only the person's START undoes it.
PERSON_SOURCES = {
    ConsentSource.INBOUND_KEYWORD,
    ConsentSource.TWILIO_OPT_OUT_TYPE,
    ConsentSource.TWILIO_ERROR_21610,
}


class ConsentEvent(models.Model):
    """The ledger: every opt-out, opt-in and help request for a number, never edited."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="consent_events"
    )
    phone = models.CharField(max_length=16)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="consent_events"
    )
    kind = models.CharField(max_length=16, choices=ConsentKind.choices)
    source = models.CharField(max_length=24, choices=ConsentSource.choices)
    message_sid = models.CharField(max_length=34, blank=True)
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.CharField(max_length=120, blank=True, help_text="who, in words")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        indexes = [models.Index(fields=("organization", "phone"), name="consent_org_phone")]

    def __str__(self) -> str:
        return f"{self.phone} {self.kind} ({self.source})"


class ConsentState(models.Model):
    """The do-not-text list: the current state per number, kept in step with the ledger."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="consent_states"
    )
    phone = models.CharField(max_length=16)
    opted_out = models.BooleanField(default=False)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    opt_out_source = models.CharField(max_length=24, choices=ConsentSource.choices, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("organization", "phone"), name="consent_state_once_per_phone"
            )
        ]

    def __str__(self) -> str:
        return f"{self.phone}: {'opted out' if self.opted_out else 'may be texted'}"

    @property
    def locked(self) -> bool:
        """True when only the person (by replying START) may undo this opt-out."""
        return self.opted_out and self.opt_out_source in PERSON_SOURCES


# --- CSV import ----------------------------------------------------------------------------


class ImportState(models.TextChoices):
    UPLOADED = "uploaded", "Waiting for its columns"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"


OPEN_IMPORT_STATES = (ImportState.QUEUED, ImportState.RUNNING)


class ExistingContacts(models.TextChoices):
    """What an import does with a row whose number is already a contact."""

    FILL_EMPTY = "fill_empty", "Fill empty fields only"
    OVERWRITE = "overwrite", "Overwrite with the file's values"
    SKIP = "skip", "Leave them as they are"


class ContactImport(models.Model):
    """A CSV file and what its import did. The file is kept in the database (``ImportFilePart``,
    so that a worker on any machine reads it) until ``FILE_DAYS`` after the upload."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contact_imports"
    )
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=16, default="ui")
    file_name = models.CharField(max_length=255)
    file_size = models.PositiveBigIntegerField(default=0)
    encoding = models.CharField(max_length=16)
    delimiter = models.CharField(max_length=1)
    header = models.JSONField(default=list)
    total = models.PositiveIntegerField(default=0, help_text="data rows in the file")
    # One target per column of the header ("" ignores it), and the run's options.
    mapping = models.JSONField(default=list, blank=True)
    options = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=ImportState.choices, default="uploaded")
    cursor = models.PositiveIntegerField(default=0, help_text="data rows read so far")
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    opted_out = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    cancelled_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    file_removed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        indexes = [
            models.Index(fields=("organization", "-created_at"), name="import_org_created"),
            models.Index(fields=("state", "updated_at"), name="import_state_updated"),
        ]

    def __str__(self) -> str:
        return f"import of {self.file_name}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_IMPORT_STATES


class ImportFilePart(models.Model):
    """One megabyte of an import's file, as uploaded (read back in order, a part at a time)."""

    contact_import = models.ForeignKey(ContactImport, on_delete=models.CASCADE, related_name="+")
    index = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("contact_import", "index"), name="import_part_once")
        ]

    def __str__(self) -> str:
        return f"part {self.index} of import {self.contact_import_id}"


class ImportIssue(models.Model):
    """A row of the error report: the data row (0-based, after the header), its line in the
    file, and why it was not imported as it stands."""

    contact_import = models.ForeignKey(
        ContactImport, on_delete=models.CASCADE, related_name="issues"
    )
    row = models.PositiveIntegerField()
    line = models.PositiveIntegerField()
    code = models.CharField(max_length=32)
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ("row", "pk")
        indexes = [models.Index(fields=("contact_import", "row"), name="import_issue_row")]

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class ImportedNumber(models.Model):
    """A number this import has written, with the row that won (a later row of the same
    number replaces an earlier one) and what it did: so that a resumed import and the later
    rows of the file know, and its automations fire once per contact at the end."""

    contact_import = models.ForeignKey(ContactImport, on_delete=models.CASCADE, related_name="+")
    phone = models.CharField(max_length=16)
    row = models.PositiveIntegerField()
    line = models.PositiveIntegerField()
    contact = models.ForeignKey(Contact, null=True, on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField(max_length=10, help_text="created, updated or unchanged")
    tag_ids = models.JSONField(default=list, help_text="tags the import added to the contact")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("contact_import", "phone"), name="imported_number_once")
        ]

    def __str__(self) -> str:
        return f"{self.phone} from line {self.line}"


class ImportColumnMemory(models.Model):
    """How the organization mapped a column header last time, guessed first next time."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    header = models.CharField(max_length=100, help_text="lower-cased, spaces squeezed")
    target = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("organization", "header"), name="import_column_memory_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.header} → {self.target or 'ignored'}"

"""The API's shapes of automations, their enrolments (runs) with the step ledger, and a dry run.

The definition fields (``trigger``, ``entry_rules``, ``exit_rules``, ``reentry``, ``steps``)
are the automation's draft, as ``automations.definition`` stores it; ``version`` is the live
version's number (null before the first Publish).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from automations.models import Automation, AutomationRun, RunState, RunStep, State
from automations.services.automations import has_unpublished_changes
from automations.services.dry_run import DryRun, DryStep, DryText
from tenants.api_schema import EXAMPLE_IDS, EXAMPLE_TIME, example, request_example

DEFINITION_FIELDS = ("trigger", "entry_rules", "exit_rules", "reentry", "steps")
# The definition as ``automations.definition`` documents it; the API's examples.
DEFINITION_EXAMPLE = {
    "trigger": {"type": "tag_added", "tag": "new-lead"},
    "entry_rules": {
        "has_all_tags": [],
        "has_any_tags": [],
        "lacks_tags": ["customer"],
        "custom_fields": {},
    },
    "exit_rules": {"on_reply": False, "on_tag_added": [], "on_trigger_tag_removed": False},
    "reentry": {"policy": "once"},
    "steps": [
        {
            "id": "welcome",
            "type": "send_sms",
            "template": EXAMPLE_IDS["template"],
            "respect_quiet_hours": False,
        },
        {"id": "wait", "type": "wait", "duration": {"days": 1}},
        {
            "id": "replied",
            "type": "branch",
            "if": {"replied": True},
            "then": "end",
            "else": "continue",
        },
    ],
}
OBJECT = extend_schema_field(OpenApiTypes.OBJECT)
STEPS = extend_schema_field({"type": "array", "items": {"type": "object"}})


@extend_schema_serializer(
    examples=[
        example(
            {
                "id": EXAMPLE_IDS["automation"],
                "name": "Welcome new leads",
                **DEFINITION_EXAMPLE,
                "state": "active",
                "version": 1,
                "has_unpublished_changes": False,
                "created_at": EXAMPLE_TIME,
                "updated_at": EXAMPLE_TIME,
            }
        )
    ]
)
class AutomationSerializer(serializers.ModelSerializer[Automation]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    trigger = serializers.SerializerMethodField()
    entry_rules = serializers.SerializerMethodField()
    exit_rules = serializers.SerializerMethodField()
    reentry = serializers.SerializerMethodField()
    steps = serializers.SerializerMethodField()
    version = serializers.SerializerMethodField(
        help_text="The live version's number; null before the first Publish."
    )
    has_unpublished_changes = serializers.SerializerMethodField()

    class Meta:
        model = Automation
        fields = (
            "id",
            "name",
            *DEFINITION_FIELDS,
            "state",
            "version",
            "has_unpublished_changes",
            "created_at",
            "updated_at",
        )

    @OBJECT
    def get_trigger(self, automation: Automation) -> Any:
        return automation.draft.get("trigger", {})

    @OBJECT
    def get_entry_rules(self, automation: Automation) -> Any:
        return automation.draft.get("entry_rules", {})

    @OBJECT
    def get_exit_rules(self, automation: Automation) -> Any:
        return automation.draft.get("exit_rules", {})

    @OBJECT
    def get_reentry(self, automation: Automation) -> Any:
        return automation.draft.get("reentry", {"policy": "once"})

    @STEPS
    def get_steps(self, automation: Automation) -> Any:
        return automation.draft.get("steps", [])

    def get_version(self, automation: Automation) -> int | None:
        live = automation.live_version
        return live.number if live is not None else None

    def get_has_unpublished_changes(self, automation: Automation) -> bool:
        return has_unpublished_changes(automation)


@extend_schema_serializer(
    examples=[request_example({"name": "Welcome new leads", **DEFINITION_EXAMPLE})]
)
class AutomationInputSerializer(serializers.Serializer[None]):
    """What a client may send. The definition fields are taken as given and checked by
    ``definition_clean``, whose errors name their paths (``steps[2].template``)."""

    name = serializers.CharField(allow_blank=True, trim_whitespace=False)
    trigger = serializers.JSONField(
        required=False,
        help_text='What enrols a contact: {"type": …} with its settings; types: '
        "tag_added, tag_removed, contact_created, inbound_keyword, date_field, "
        "incoming_webhook, manual.",
    )
    entry_rules = serializers.JSONField(
        required=False,
        help_text="has_all_tags, has_any_tags, lacks_tags (names), custom_fields ({key: value}).",
    )
    exit_rules = serializers.JSONField(
        required=False, help_text="on_reply, on_tag_added (names), on_trigger_tag_removed."
    )
    reentry = serializers.JSONField(
        required=False,
        help_text='{"policy": "once"}, {"policy": "every_time"} or '
        '{"policy": "after_days", "days": 30}.',
    )
    steps = serializers.JSONField(
        required=False,
        help_text="The flow, in order: send_sms (template or variants), wait (duration or "
        "until), branch (if, then, else); each with its own id.",
    )
    state = serializers.ChoiceField(
        choices=State.choices,
        required=False,
        help_text="active activates (publishing first if need be), paused pauses, archived "
        "archives; a new automation is draft or active.",
    )

    def definition(self) -> dict[str, Any] | None:
        """The definition fields given, or None when there are none."""
        given = {k: v for k, v in self.validated_data.items() if k in DEFINITION_FIELDS}
        return given or None


@extend_schema_serializer(
    examples=[request_example({"contact": EXAMPLE_IDS["contact"]})],
    component_name="AutomationContact",
)
class ContactInputSerializer(serializers.Serializer[None]):
    contact = serializers.UUIDField(help_text="A contact's id.")


class RunStepSerializer(serializers.ModelSerializer[RunStep]):
    step = serializers.CharField(source="step_id")
    message = serializers.SerializerMethodField()
    message_status = serializers.SerializerMethodField()

    class Meta:
        model = RunStep
        fields = ("step", "outcome", "message", "message_status", "variant", "detail", "at")

    def get_message(self, row: RunStep) -> str | None:
        return str(row.message.public_id) if row.message else None

    def get_message_status(self, row: RunStep) -> str | None:
        return row.message.status if row.message else None


@extend_schema_serializer(
    examples=[
        example(
            {
                "id": EXAMPLE_IDS["run"],
                "contact": EXAMPLE_IDS["contact"],
                "version": 1,
                "state": "waiting",
                "step": "wait",
                "due_at": EXAMPLE_TIME,
                "reason": None,
                "detail": "",
                "created_at": EXAMPLE_TIME,
                "ended_at": None,
                "steps": [
                    {
                        "step": "welcome",
                        "outcome": "sent",
                        "message": EXAMPLE_IDS["message"],
                        "message_status": "delivered",
                        "variant": None,
                        "detail": "",
                        "at": EXAMPLE_TIME,
                    },
                    {
                        "step": "wait",
                        "outcome": "waited",
                        "message": None,
                        "message_status": None,
                        "variant": None,
                        "detail": "",
                        "at": EXAMPLE_TIME,
                    },
                ],
            }
        )
    ]
)
class RunSerializer(serializers.ModelSerializer[AutomationRun]):
    """An enrolment (or a skip, with its reason) and its ledger, oldest step first."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    contact = serializers.SerializerMethodField()
    version = serializers.SerializerMethodField()
    step = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField()
    steps = RunStepSerializer(many=True, read_only=True)

    class Meta:
        model = AutomationRun
        fields = (
            "id",
            "contact",
            "version",
            "state",
            "step",
            "due_at",
            "reason",
            "detail",
            "created_at",
            "ended_at",
            "steps",
        )

    def get_contact(self, run: AutomationRun) -> str:
        return str(run.contact.public_id)

    def get_version(self, run: AutomationRun) -> int:
        return run.version.number

    def get_step(self, run: AutomationRun) -> str | None:
        return run.step_id or None

    def get_reason(self, run: AutomationRun) -> str | None:
        return run.reason or None


RUN_STATES = [state.value for state in RunState]


class DryTextSerializer(serializers.Serializer[DryText]):
    template = serializers.SerializerMethodField()
    weight = serializers.IntegerField(allow_null=True)
    text = serializers.CharField()
    segments = serializers.IntegerField()
    encoding = serializers.CharField()
    suppressed_reason = serializers.SerializerMethodField()
    send_after = serializers.DateTimeField(allow_null=True)

    def get_template(self, text: DryText) -> str:
        return str(text.template.public_id)

    def get_suppressed_reason(self, text: DryText) -> str | None:
        return text.suppressed_reason or None


class DryStepSerializer(serializers.Serializer[DryStep]):
    step = serializers.CharField(source="step_id")
    type = serializers.CharField()
    words = serializers.CharField()
    outcome = serializers.CharField()
    detail = serializers.CharField()
    texts = DryTextSerializer(many=True)


@extend_schema_serializer(
    examples=[
        example(
            {
                "would_enrol": True,
                "refusal": None,
                "refusal_detail": "",
                "steps": [
                    {
                        "step": "welcome",
                        "type": "send_sms",
                        "words": "Send Welcome",
                        "outcome": "sent",
                        "detail": "",
                        "texts": [
                            {
                                "template": EXAMPLE_IDS["template"],
                                "weight": None,
                                "text": "Hi Ana, welcome to Acme Coffee!",
                                "segments": 1,
                                "encoding": "GSM-7",
                                "suppressed_reason": None,
                                "send_after": None,
                            }
                        ],
                    }
                ],
            }
        )
    ]
)
class DryRunSerializer(serializers.Serializer[DryRun]):
    would_enrol = serializers.BooleanField()
    refusal = serializers.SerializerMethodField()
    refusal_detail = serializers.CharField()
    steps = DryStepSerializer(many=True)

    def get_refusal(self, dry: DryRun) -> str | None:
        return str(dry.refusal) if dry.refusal else None

"""``/api/v1/templates/``: CRUD and preview."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from contacts.models import Contact
from templates_sms.models import SmsTemplate
from templates_sms.preview import template_preview
from templates_sms.segments import MAX_TEXT
from templates_sms.selectors import organization_templates
from templates_sms.services import Saved, template_create, template_delete, template_update
from tenants.api_base import OrganizationAPIView
from tenants.api_schema import (
    EXAMPLE_IDS,
    EXAMPLE_TIME,
    IDEMPOTENCY_KEY,
    conflict,
    example,
    once_conflict,
    request_example,
)

TEMPLATE_EXAMPLE = {
    "id": EXAMPLE_IDS["template"],
    "name": "Welcome",
    "body": "Hi {{first_name}}, welcome to Acme Coffee! Your first latte is on us.",
    "media_url": "",
    "append_opt_out_footer": True,
    "created_at": EXAMPLE_TIME,
    "updated_at": EXAMPLE_TIME,
}
DUPLICATE_NAME = conflict("duplicate_name", description="Another template has the name.")


@extend_schema_serializer(examples=[example(TEMPLATE_EXAMPLE)])
class TemplateSerializer(serializers.ModelSerializer[SmsTemplate]):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = SmsTemplate
        fields = (
            "id",
            "name",
            "body",
            "media_url",
            "append_opt_out_footer",
            "created_at",
            "updated_at",
        )


@extend_schema_serializer(
    examples=[
        request_example(
            {
                "name": "Welcome",
                "body": "Hi {{first_name}}, welcome to Acme Coffee! Your first latte is on us.",
            }
        )
    ]
)
class TemplateInputSerializer(serializers.Serializer[None]):
    name = serializers.CharField(max_length=120)
    body = serializers.CharField(max_length=MAX_TEXT, trim_whitespace=False)
    media_url = serializers.CharField(max_length=500, required=False, allow_blank=True)
    append_opt_out_footer = serializers.BooleanField(required=False)


class PreviewInputSerializer(serializers.Serializer[None]):
    contact = serializers.UUIDField(
        required=False, allow_null=True, help_text="A contact's id; left out: a sample contact."
    )


@extend_schema_serializer(examples=[example({**TEMPLATE_EXAMPLE, "warnings": []})])
class TemplateSavedSerializer(TemplateSerializer):
    """A template as a save answers it, with what the save warns about."""

    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta(TemplateSerializer.Meta):
        fields = (*TemplateSerializer.Meta.fields, "warnings")  # type: ignore[assignment]


@extend_schema_serializer(
    examples=[
        example(
            {
                "text": "Hi Ana, welcome to Acme Coffee! Your first latte is on us. "
                "Reply STOP to opt out",
                "encoding": "GSM-7",
                "segments": 1,
                "characters": 81,
                "ucs2_characters": [],
            }
        )
    ]
)
class PreviewSerializer(serializers.Serializer[None]):
    text = serializers.CharField(help_text="The text as the contact would get it.")
    encoding = serializers.ChoiceField(choices=["GSM-7", "UCS-2"])
    segments = serializers.IntegerField()
    characters = serializers.IntegerField()
    ucs2_characters = serializers.ListField(
        child=serializers.CharField(), help_text="The characters that make the text UCS-2."
    )


def saved_response(saved: Saved, status_code: int = 200) -> Response:
    body = TemplateSerializer(saved.template).data
    return Response({**body, "warnings": saved.warnings}, status=status_code)


class TemplatesApi(OrganizationAPIView):
    @extend_schema(summary="The SMS templates", responses=TemplateSerializer(many=True))
    def get(self, request: Request) -> Response:
        return self.paginate(organization_templates(self.organization), TemplateSerializer)

    @extend_schema(
        summary="Create an SMS template",
        description="`body` may use merge fields such as `{{first_name}}`.",
        parameters=[IDEMPOTENCY_KEY],
        request=TemplateInputSerializer,
        responses={
            201: TemplateSavedSerializer,
            **once_conflict("duplicate_name", description="Another template has the name."),
        },
    )
    def post(self, request: Request) -> Response:
        return self.created_once(request, lambda: self.create(request))

    def create(self, request: Request) -> Response:
        serializer = TemplateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        saved = template_create(organization=self.organization, **serializer.validated_data)
        return saved_response(saved, status.HTTP_201_CREATED)


class TemplateApi(OrganizationAPIView):
    def get_template(self, template_id: str) -> SmsTemplate:
        return self.get_scoped_object(SmsTemplate, template_id)

    @extend_schema(summary="An SMS template", responses=TemplateSerializer)
    def get(self, request: Request, template_id: str) -> Response:
        return Response(TemplateSerializer(self.get_template(template_id)).data)

    @extend_schema(
        summary="Change an SMS template",
        request=TemplateInputSerializer,
        responses={200: TemplateSavedSerializer, **DUPLICATE_NAME},
    )
    def patch(self, request: Request, template_id: str) -> Response:
        template = self.get_template(template_id)  # 404 before any validation
        serializer = TemplateInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        saved = template_update(template=template, **serializer.validated_data)
        return saved_response(saved)

    @extend_schema(
        summary="Replace an SMS template",
        request=TemplateInputSerializer,
        responses={200: TemplateSavedSerializer, **DUPLICATE_NAME},
    )
    def put(self, request: Request, template_id: str) -> Response:
        template = self.get_template(template_id)  # 404 before any validation
        serializer = TemplateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = {"media_url": "", "append_opt_out_footer": True, **serializer.validated_data}
        saved = template_update(template=template, **data)
        return saved_response(saved)

    @extend_schema(
        summary="Delete an SMS template",
        responses={
            204: None,
            **conflict("template_in_use", description="A published automation sends it."),
        },
    )
    def delete(self, request: Request, template_id: str) -> Response:
        template_delete(template=self.get_template(template_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TemplatePreviewApi(OrganizationAPIView):
    """Renders for a contact (or the sample one): text, encoding, segments, characters."""

    write_role = OrganizationAPIView.read_role  # previewing changes nothing

    @extend_schema(
        summary="Preview an SMS template",
        request=PreviewInputSerializer,
        responses=PreviewSerializer,
    )
    def post(self, request: Request, template_id: str) -> Response:
        template = self.get_scoped_object(SmsTemplate, template_id)
        serializer = PreviewInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = None
        if serializer.validated_data.get("contact"):
            contact = self.get_scoped_object(Contact, serializer.validated_data["contact"])
        preview = template_preview(
            organization=self.organization,
            body=template.body,
            append_footer=template.append_opt_out_footer,
            contact=contact,
        )
        return Response(
            {
                "text": preview.text,
                "encoding": preview.info.encoding,
                "segments": preview.info.segments,
                "characters": preview.info.characters,
                "ucs2_characters": preview.info.ucs2_characters,
            }
        )

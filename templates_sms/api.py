"""``/api/v1/templates/``: CRUD and preview."""

from __future__ import annotations

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


class TemplateInputSerializer(serializers.Serializer[None]):
    name = serializers.CharField(max_length=120)
    body = serializers.CharField(max_length=MAX_TEXT, trim_whitespace=False)
    media_url = serializers.CharField(max_length=500, required=False, allow_blank=True)
    append_opt_out_footer = serializers.BooleanField(required=False)


class PreviewInputSerializer(serializers.Serializer[None]):
    contact = serializers.UUIDField(required=False, allow_null=True)


def saved_response(saved: Saved, status_code: int = 200) -> Response:
    body = TemplateSerializer(saved.template).data
    return Response({**body, "warnings": saved.warnings}, status=status_code)


class TemplatesApi(OrganizationAPIView):
    def get(self, request: Request) -> Response:
        return self.paginate(organization_templates(self.organization), TemplateSerializer)

    def post(self, request: Request) -> Response:
        serializer = TemplateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        saved = template_create(organization=self.organization, **serializer.validated_data)
        return saved_response(saved, status.HTTP_201_CREATED)


class TemplateApi(OrganizationAPIView):
    def get_template(self, template_id: str) -> SmsTemplate:
        return self.get_scoped_object(SmsTemplate, template_id)

    def get(self, request: Request, template_id: str) -> Response:
        return Response(TemplateSerializer(self.get_template(template_id)).data)

    def patch(self, request: Request, template_id: str) -> Response:
        template = self.get_template(template_id)  # 404 before any validation
        serializer = TemplateInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        saved = template_update(template=template, **serializer.validated_data)
        return saved_response(saved)

    def put(self, request: Request, template_id: str) -> Response:
        template = self.get_template(template_id)  # 404 before any validation
        serializer = TemplateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = {"media_url": "", "append_opt_out_footer": True, **serializer.validated_data}
        saved = template_update(template=template, **data)
        return saved_response(saved)

    def delete(self, request: Request, template_id: str) -> Response:
        template_delete(template=self.get_template(template_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TemplatePreviewApi(OrganizationAPIView):
    """Renders for a contact (or the sample one): text, encoding, segments, characters."""

    write_role = OrganizationAPIView.read_role  # previewing changes nothing

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

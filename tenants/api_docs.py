"""``/api/v1/schema/`` (the OpenAPI schema) and ``/api/v1/docs/`` (Swagger UI on it).

Both are public: they describe the API and hold no organization's data, and the docs page is
opened in a browser, which sends no key. The schema is JSON unless YAML is asked for, with
``?format=yaml`` or ``Accept: application/yaml`` / ``application/vnd.oai.openapi``. The docs
page serves Swagger UI from drf-spectacular-sidecar's files (``/static/swagger-ui/``, no CDN)
and starts it from a script file, as the Content-Security-Policy allows no inline script;
**Authorize** takes a key for **Try it out**, and forgets it when the page is left.
"""

from __future__ import annotations

import functools
from typing import Any

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import AllowAny
from rest_framework.renderers import TemplateHTMLRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


@functools.cache
def api_schema() -> dict[str, Any]:
    """The schema, generated once per process (a second or so): it changes only with the
    code."""
    generator = SchemaGenerator()  # type: ignore[no-untyped-call]
    schema: dict[str, Any] = generator.get_schema(request=None, public=True)  # type: ignore[no-untyped-call]
    return schema


class ApiSchemaView(SpectacularAPIView):
    # The first renderer is the default: JSON (application/json), then YAML.
    renderer_classes = [
        OpenApiJsonRenderer2,
        OpenApiJsonRenderer,
        OpenApiYamlRenderer2,
        OpenApiYamlRenderer,
    ]

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        suffix = request.accepted_renderer.format
        disposition = f'inline; filename="smshub-openapi.{suffix}"'
        return Response(api_schema(), headers={"Content-Disposition": disposition})


class ApiDocsView(APIView):
    """A page, public like the schema: it reads no key."""

    authentication_classes = []
    permission_classes = [AllowAny]
    renderer_classes = [TemplateHTMLRenderer]
    template_name = "tenants/api_docs.html"

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        return Response({})

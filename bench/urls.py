"""The app's URLs plus an empty view, the yardstick of bench.status_callbacks."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.urls import urlpatterns as app_urlpatterns


@csrf_exempt
def empty(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=204)


urlpatterns = [path("bench/empty", empty), *app_urlpatterns]

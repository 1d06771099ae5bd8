from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenants.forms import EmailLoginForm


class LoginView(auth_views.LoginView):
    template_name = "tenants/login.html"
    authentication_form = EmailLoginForm
    redirect_authenticated_user = True


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "tenants/home.html")

from django.contrib.auth.views import LogoutView
from django.urls import path

from saas_platform.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.PlatformLoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(next_page="/"), name="logout"),
    path("home/", views.home, name="home"),
    path("stores/<slug:slug>/console/", views.open_console, name="open_console"),
]

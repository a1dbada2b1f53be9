from django.urls import path

from saas_platform.miniprogram import views

app_name = "miniprogram"
urlpatterns = [
    path("component/", views.component_push, name="component_push"),
    path("events/<str:appid>/", views.authorizer_event, name="authorizer_event"),
]

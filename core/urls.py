from django.urls import path

from core import views

app_name = "core"
urlpatterns = [path("files/", views.serve_file, name="file")]

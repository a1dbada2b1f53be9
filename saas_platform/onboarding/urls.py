from django.urls import path

from saas_platform.onboarding import views

app_name = "onboarding"
urlpatterns = [
    path("signup/", views.sign_up, name="signup"),
    path("reset/", views.reset_password, name="reset"),
    path("stores/new/", views.new_store, name="new_store"),
]

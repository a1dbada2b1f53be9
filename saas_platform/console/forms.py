from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms.auth import LoginForm


class ConsoleLoginForm(LoginForm):
    """Wagtail's login form, with the password field labelled in the user's language (Wagtail's
    own has no label, so Django shows the field name: "Password")."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password"].label = _("密码")

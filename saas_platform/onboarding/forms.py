from django import forms
from django.utils.translation import gettext_lazy as _

from saas_platform.onboarding.models import ServiceCategory
from tenants.models import Industry


class SignUpForm(forms.Form):
    phone = forms.CharField(label=_("手机号"), max_length=20, required=False)
    code = forms.CharField(label=_("短信验证码"), max_length=6, required=False)
    name = forms.CharField(label=_("您的称呼"), max_length=30, required=False)
    password = forms.CharField(label=_("密码"), widget=forms.PasswordInput, required=False)
    agree = forms.BooleanField(label=_("我已阅读并同意《分销云服务协议》"), required=False)


class ResetForm(forms.Form):
    phone = forms.CharField(label=_("手机号"), max_length=20, required=False)
    code = forms.CharField(label=_("短信验证码"), max_length=6, required=False)
    password = forms.CharField(label=_("新密码"), widget=forms.PasswordInput, required=False)


class StoreForm(forms.Form):
    """Nothing is required here: ``create_store`` checks every field and reports all at once."""

    name = forms.CharField(label=_("店铺名称"), max_length=100, required=False)
    slug = forms.CharField(
        label=_("店铺标识（子域名）"),
        max_length=40,
        required=False,
        help_text=_("小写字母、数字或连字符，例如 xianguo"),
    )
    industry = forms.ChoiceField(label=_("行业"), choices=Industry.choices, required=False)
    categories = forms.MultipleChoiceField(
        label=_("经营类目"), choices=ServiceCategory.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_standard_library_platform_is_not_shadowed_from_the_repository_root():
    out = subprocess.run(
        [sys.executable, "-c", "import platform; print(platform.system(), platform.__file__)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    system, path = out.stdout.split()
    assert system == "Linux"
    assert not path.startswith(str(ROOT)), path


@pytest.mark.parametrize(
    "folder",
    [
        "config",
        "saas_platform",
        "tenants",
        "billing",
        "storefront_templates",
        "builder",
        "mall",
        "integrations",
        "tests",
        "infra",
        "bench",
        "docs",
    ],
)
def test_layout_has_the_agreed_top_level_folders(folder):
    assert (ROOT / folder).is_dir()


def _settings_import(env_extra):
    env = dict(os.environ, **env_extra)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup()",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def test_production_refuses_debug_and_default_secrets():
    result = _settings_import({"FENXIAO_ENV": "production", "DEBUG": "1"})
    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr
    assert "SECRET_KEY must be set" in result.stderr
    assert "FIELD_ENCRYPTION_KEYS must be set" in result.stderr


def test_production_starts_with_real_secrets():
    from cryptography.fernet import Fernet

    result = _settings_import(
        {
            "FENXIAO_ENV": "production",
            "DEBUG": "0",
            "SECRET_KEY": "x" * 50,
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "FIELD_HASH_KEY": "h" * 40,
            "SMS_BACKEND": "integrations.sms.backends.HttpSender",  # development senders are refused
            "SMS_HTTP_URL": "https://sms-gateway.example.com/send",
        }
    )
    assert result.returncode == 0, result.stderr

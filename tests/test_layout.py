import os
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.conftest import PRODUCTION_SMS

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


def test_the_layer_contracts_hold():
    """import-linter (contracts in pyproject.toml): core imports no app; integrations import no
    business app; mall imports nothing of saas_platform or billing; billing never imports mall;
    no production code imports tools/."""
    with open(ROOT / "pyproject.toml", "rb") as fh:
        contracts = tomllib.load(fh)["tool"]["importlinter"]["contracts"]
    rules = {(tuple(c["source_modules"]), tuple(c["forbidden_modules"])) for c in contracts}
    assert any(src == ("core",) and "mall" in forbidden and "tenants" in forbidden for src, forbidden in rules)
    assert any(src == ("integrations",) and "saas_platform" in forbidden for src, forbidden in rules)
    assert (("mall",), ("saas_platform", "billing")) in rules
    assert (("billing",), ("mall",)) in rules
    assert any("tools" in forbidden and "config" in src and "mall" in src for src, forbidden in rules)
    out = subprocess.run([str(Path(sys.executable).parent / "lint-imports")], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert f"Contracts: {len(contracts)} kept, 0 broken." in out.stdout


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
            **PRODUCTION_SMS,  # development senders are refused
        }
    )
    assert result.returncode == 0, result.stderr


def test_production_installs_no_developer_tools():
    """tools/ (the demo seed, the emulator binding) is never an installed app in production, so
    `manage.py seed_demo` does not exist there; in development it does."""
    from cryptography.fernet import Fernet

    probe = (
        "import django, os, sys; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup();"
        "from django.conf import settings; from django.core.management import get_commands;"
        "print([a for a in settings.INSTALLED_APPS if a.startswith('tools')], 'seed_demo' in get_commands(),"
        " any(m.startswith('tools') for m in sys.modules))"
    )
    production = dict(
        os.environ,
        FENXIAO_ENV="production",
        DEBUG="0",
        SECRET_KEY="x" * 50,
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        FIELD_HASH_KEY="h" * 40,
        **PRODUCTION_SMS,
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=production, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["[]", "False", "False"]
    development = dict(os.environ, FENXIAO_ENV="development")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=development, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[:2] == ["['tools.demo']", "True"]

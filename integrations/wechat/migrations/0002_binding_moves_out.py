# The binding models leave integrations.wechat (clients and token storage only):
# Authorizer and CodeAudit -> saas_platform.miniprogram, InboundLog -> core. Their tables stay
# (db_table keeps the names), so only Django's model state changes here.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('wechat', '0001_initial'),
        ('miniprogram', '0001_initial'),
        ('core', '0002_inboundlog'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='CodeAudit'),
                migrations.DeleteModel(name='Authorizer'),
                migrations.DeleteModel(name='InboundLog'),
            ],
            database_operations=[],
        ),
    ]

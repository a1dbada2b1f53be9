# Authorizer and CodeAudit move here from integrations.wechat; their tables (wechat_authorizer,
# wechat_codeaudit) stay as they are, so existing databases keep their rows.

import core.fields
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('tenants', '0001_initial'),
        ('wechat', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Authorizer',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('appid', models.CharField(max_length=32, unique=True, verbose_name='小程序 AppID')),
                        ('nickname', models.CharField(blank=True, max_length=100, verbose_name='小程序名称')),
                        ('status', models.CharField(choices=[('authorized', '已授权'), ('unauthorized', '已取消授权')], default='authorized', max_length=16, verbose_name='状态')),
                        ('access_token', core.fields.EncryptedTextField(blank=True, default='')),
                        ('access_token_expires_at', models.DateTimeField(blank=True, null=True)),
                        ('refresh_token', core.fields.EncryptedTextField(blank=True, default='')),
                        ('func_info', models.JSONField(blank=True, default=list)),
                        ('authorized_at', models.DateTimeField(blank=True, null=True, verbose_name='授权时间')),
                        ('updated', models.DateTimeField(auto_now=True)),
                        ('tenant', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='wechat_authorizers', to='tenants.tenant', verbose_name='商户')),
                    ],
                    options={
                        'db_table': 'wechat_authorizer',
                        'verbose_name': '小程序授权',
                        'verbose_name_plural': '小程序授权',
                    },
                ),
                migrations.CreateModel(
                    name='CodeAudit',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('auditid', models.BigIntegerField()),
                        ('status', models.IntegerField(choices=[(0, '审核通过'), (1, '审核被拒'), (2, '审核中'), (3, '已撤回'), (4, '审核延后')], default=2)),
                        ('reason', models.TextField(blank=True)),
                        ('released', models.BooleanField(default=False)),
                        ('submitted_at', models.DateTimeField(auto_now_add=True)),
                        ('updated', models.DateTimeField(auto_now=True)),
                        ('authorizer', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='audits', to='miniprogram.authorizer')),
                    ],
                    options={
                        'db_table': 'wechat_codeaudit',
                        'constraints': [models.UniqueConstraint(fields=('authorizer', 'auditid'), name='wechat_audit_unique')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]

# InboundLog moves here from integrations.wechat; the table (wechat_inboundlog) stays as it is.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0001_initial'),
        ('wechat', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='InboundLog',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('component', '第三方平台推送'), ('event', '小程序事件'), ('pay_notify', '支付通知'), ('refund_notify', '退款通知'), ('transfer_notify', '转账通知')], max_length=20)),
                        ('key', models.CharField(blank=True, db_index=True, max_length=128)),
                        ('outcome', models.CharField(max_length=32)),
                        ('detail', models.TextField(blank=True)),
                        ('schema_name', models.CharField(blank=True, max_length=63)),
                        ('received_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                    ],
                    options={
                        'db_table': 'wechat_inboundlog',
                        'ordering': ['-received_at'],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]

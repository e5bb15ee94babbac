from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
    ]

    operations = [
        migrations.CreateModel(
            name='Figure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, verbose_name='name')),
                ('labels', models.CharField(blank=True, help_text='name=value pairs, comma-separated.', max_length=200, verbose_name='labels')),
                ('shard', models.PositiveSmallIntegerField(default=0, verbose_name='shard')),
                ('value', models.FloatField(default=0.0, verbose_name='value')),
            ],
            options={
                'verbose_name': 'figure',
                'verbose_name_plural': 'figures',
                'constraints': [models.UniqueConstraint(fields=('name', 'labels', 'shard'), name='figure_unique_shard')],
            },
        ),
        migrations.CreateModel(
            name='Heartbeat',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('beat', 'Celery beat'), ('worker', 'Celery worker')], max_length=16, verbose_name='kind')),
                ('name', models.CharField(blank=True, help_text="The worker's host name.", max_length=255, verbose_name='name')),
                ('at', models.DateTimeField(verbose_name='at')),
            ],
            options={
                'verbose_name': 'heartbeat',
                'verbose_name_plural': 'heartbeats',
                'constraints': [models.UniqueConstraint(fields=('kind', 'name'), name='heartbeat_unique_kind_name')],
            },
        ),
    ]

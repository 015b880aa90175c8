import uuid

import django.db.models.deletion
from django.db import migrations, models


def fill_in(apps, schema_editor):
    """Existing uses were all made at the node that issued the licence and keeps the case."""
    use_model = apps.get_model("licences", "LicenceUse")
    for use in use_model.objects.select_related("case"):
        use.ref = uuid.uuid4()
        use.case_no = use.case.case_no
        use.case_node = use.case.node
        use.item_name = use.case.item.name if use.case.item_id else ""
        use.issuer_node = use.node
        use.save(update_fields=["ref", "case_no", "case_node", "item_name", "issuer_node"])


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_hub_case_summary"),
        ("licences", "0005_licence_uses"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="licenceuse", name="uniq_open_licence_use_per_material"),
        migrations.AddField(
            model_name="licenceuse",
            name="ref",
            field=models.UUIDField(db_index=True, default=uuid.uuid4, verbose_name="用证编号"),
        ),
        migrations.AddField(
            model_name="licenceuse",
            name="case_no",
            field=models.CharField(default="", max_length=32, verbose_name="办件编号"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="licenceuse",
            name="case_node",
            field=models.CharField(default="", max_length=6, verbose_name="申请用证的节点"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="licenceuse",
            name="item_name",
            field=models.CharField(blank=True, max_length=128, verbose_name="办理事项"),
        ),
        migrations.AddField(
            model_name="licenceuse",
            name="issuer_node",
            field=models.CharField(blank=True, max_length=6, verbose_name="签发节点"),
        ),
        migrations.AddField(
            model_name="licenceuse",
            name="pending_message",
            field=models.UUIDField(blank=True, db_index=True, null=True, verbose_name="待答复的消息"),
        ),
        migrations.AddField(
            model_name="licenceuse",
            name="error_code",
            field=models.CharField(blank=True, max_length=64, verbose_name="未能取得的原因代码"),
        ),
        migrations.AddField(
            model_name="licenceuse",
            name="error_detail",
            field=models.CharField(blank=True, max_length=255, verbose_name="未能取得的原因"),
        ),
        migrations.AlterField(
            model_name="licenceuse",
            name="case",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="licence_uses",
                to="cases.case",
                verbose_name="办件",
            ),
        ),
        migrations.AlterField(
            model_name="licenceuse",
            name="identifier",
            field=models.CharField(blank=True, max_length=128, verbose_name="证照标识"),
        ),
        migrations.AlterField(
            model_name="licenceuse",
            name="status",
            field=models.CharField(
                choices=[
                    ("requested", "等待签发机构答复"),
                    ("awaiting_consent", "待持证人授权"),
                    ("releasing", "已授权，等待签发机构提供证照"),
                    ("accepted", "已授权使用"),
                    ("refused", "持证人拒绝"),
                    ("failed", "未能取得证照"),
                ],
                default="awaiting_consent",
                max_length=20,
                verbose_name="状态",
            ),
        ),
        migrations.RunPython(fill_in, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="licenceuse",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["refused", "failed"]), _negated=True),
                fields=("case", "material_code"),
                name="uniq_open_licence_use_per_material",
            ),
        ),
    ]

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("shop", "0001_initial"),
    ]

    operations = [
        migrations.AddField(model_name="book", name="rating", field=models.FloatField(null=True)),
        migrations.AddField(model_name="book", name="cover", field=models.BinaryField(null=True)),
        migrations.AddField(
            model_name="book",
            name="status",
            field=models.CharField(
                choices=[("draft", "Draft"), ("pub", "Published"), ("oop", "Out Of Print")],
                default="draft",
                max_length=10,
            ),
        ),
    ]

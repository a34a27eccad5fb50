"""Every object of every model (auto-created m2m tables included), read
through the ORM, as canonical JSON: per attribute its Python type name and
value (repr: a Decimal keeps its scale, a UUID is not a str; float.hex for
floats, bit for bit; hex for bytes; ISO-8601 for datetimes, which two
backends may give different but equal tzinfo objects; JSON with sorted keys
for dicts and lists)."""
import datetime as dt
import json

from django.apps import apps
from django.core.management.base import BaseCommand


def canon(v):
    if isinstance(v, dt.datetime):
        # The same instant, said one way (the offset is kept: both are UTC).
        return ["datetime", v.isoformat(), str(v.utcoffset())]
    if isinstance(v, float):
        # Bit for bit.
        return ["float", v.hex()]
    if isinstance(v, (bytes, memoryview)):
        return [type(v).__name__, bytes(v).hex()]
    if isinstance(v, (dict, list)):
        # Equal as Python values: jsonb keeps its keys in its own order.
        return [type(v).__name__, json.dumps(v, sort_keys=True)]
    return [type(v).__name__, repr(v)]


class Command(BaseCommand):
    help = "print every object as canonical JSON"

    def handle(self, *args, **options):
        out = {}
        for model in sorted(apps.get_models(include_auto_created=True), key=lambda m: m._meta.label):
            fields = [f for f in model._meta.concrete_fields]
            rows = []
            for obj in model.objects.order_by("pk"):
                rows.append({f.attname: canon(getattr(obj, f.attname)) for f in fields})
            out[model._meta.label] = rows
        # Many-to-many as the app sees them.
        from shop.models import Book

        out["m2m shop.Book.tags"] = {
            str(b.pk): sorted(t.label for t in b.tags.all()) for b in Book.objects.order_by("pk")
        }
        self.stdout.write(json.dumps(out, indent=1, sort_keys=True, ensure_ascii=False))

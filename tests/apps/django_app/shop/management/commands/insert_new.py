"""After a load: a new object of every model, through the ORM (each table's
sequence must be past the loaded ids), printed as model and new pk."""
import datetime as dt
from decimal import Decimal

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.db import SessionStore
from django.core.management.base import BaseCommand
from django.db import transaction

from shop.models import Author, Book, Tag


class Command(BaseCommand):
    help = "insert one new object of every model"

    @transaction.atomic
    def handle(self, *args, **options):
        made = []
        a = Author.objects.create(name="new author", mentor=Author.objects.order_by("pk").first())
        made.append(a)
        t = Tag.objects.create(label="new tag")
        made.append(t)
        b = Book.objects.create(
            title="new book", pages=1, price=Decimal("1.25"), published=dt.datetime.now(dt.timezone.utc),
            meta={"new": True}, author=a, rating=0.5, cover=b"\x00",
        )
        b.tags.add(t, Tag.objects.get(label="maths"))
        made.append(b)
        made.append(b.tags.through.objects.order_by("-pk").first())
        ct = ContentType.objects.create(app_label="shop", model="newthing")
        made.append(ct)
        p = Permission.objects.create(codename="frob_newthing", name="Can frob", content_type=ct)
        made.append(p)
        g = Group.objects.create(name="new group")
        g.permissions.add(p)
        made.append(g)
        made.append(g.permissions.through.objects.order_by("-pk").first())
        u = User.objects.create_user("newbie", "n@example.com", "pw")
        u.groups.add(g)
        u.user_permissions.add(p)
        made.append(u)
        made.append(u.groups.through.objects.order_by("-pk").first())
        made.append(u.user_permissions.through.objects.order_by("-pk").first())
        made.append(LogEntry.objects.log_action(
            user_id=u.pk, content_type_id=ct.pk, object_id="1", object_repr="x", action_flag=CHANGE,
        ))
        s = SessionStore()
        s["k"] = "v"
        s.create()
        for obj in made:
            self.stdout.write(f"{obj._meta.label} {obj.pk}")

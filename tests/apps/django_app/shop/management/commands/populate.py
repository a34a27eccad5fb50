"""Objects with known values: aware datetimes in several zones, decimals,
UUIDs, JSON, floats (2.0 is stored by SQLite as an integer), bytes, choices, a self-reference, many-to-many links, a user, an admin log
entry and a session (so django_admin_log holds rows in the source)."""
import datetime as dt
import uuid
from decimal import Decimal

from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.db import SessionStore
from django.core.management.base import BaseCommand

from shop.models import Author, Book, Status, Tag

PLUS_0530 = dt.timezone(dt.timedelta(hours=5, minutes=30))


class Command(BaseCommand):
    help = "fill the database with the test's objects"

    def handle(self, *args, **options):
        ada = Author.objects.create(
            name="Ada Lovelace", bio="First programmer.\nLine two: ünïcødé ✓",
            born=dt.datetime(1815, 12, 10, 9, 30, tzinfo=dt.timezone.utc), active=False,
        )
        bob = Author.objects.create(
            name="Bob O'Brien", bio="", born=dt.datetime(2001, 2, 3, 4, 5, 6, 789012, tzinfo=PLUS_0530),
            mentor=ada,
        )
        cy = Author.objects.create(name="Cy", born=None, mentor=bob)
        # A gap in the ids: the next insert must not reuse one.
        gone = Author.objects.create(name="deleted")
        gone.delete()
        tags = [Tag.objects.create(label=label) for label in ["sci-fi", "history", "maths", "ÆØÅ"]]
        books = [
            Book.objects.create(
                uid=uuid.UUID("12345678-1234-5678-1234-567812345678"), title="Notes", pages=66,
                price=Decimal("12.50"), published=dt.datetime(1843, 9, 1, 12, tzinfo=dt.timezone.utc),
                meta={"edition": 1, "tags": ["a", "b"], "nested": {"x": None, "y": 1.5}}, author=ada,
                rating=0.1, cover=b"\x00\x01\xfe\xff", status=Status.PUBLISHED,
            ),
            Book.objects.create(
                title="Zero price", pages=0, price=Decimal("0.00"),
                published=dt.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=PLUS_0530), meta={},
                author=bob, rating=2.0, cover=b"",
            ),
            Book.objects.create(
                title="Big", pages=-2147483648, price=Decimal("99999999.99"),
                published=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc), meta=[1, "two", 3.0],
                author=cy, rating=1 / 3, status=Status.OUT_OF_PRINT,
            ),
            Book.objects.create(
                title="Negative", pages=2147483647, price=Decimal("-0.01"),
                published=dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc), meta="just a string",
                author=ada, rating=5e-324, cover=bytes(range(256)),
            ),
        ]
        books[0].tags.set(tags[:3])
        books[1].tags.set([tags[3]])
        books[3].tags.set(tags)
        group = Group.objects.create(name="editors")
        group.permissions.set(Permission.objects.filter(codename__endswith="_book"))
        user = User.objects.create_user("ed", "ed@example.com", "s3cret", first_name="Ed")
        user.groups.add(group)
        user.user_permissions.add(Permission.objects.get(codename="view_author"))
        LogEntry.objects.log_action(
            user_id=user.pk, content_type_id=ContentType.objects.get_for_model(Book).pk,
            object_id=str(books[0].pk), object_repr="Notes", action_flag=ADDITION,
            change_message='[{"added": {}}]',
        )
        s = SessionStore()
        s["cart"] = [1, 2]
        s.create()
        self.stdout.write("populated")

"""The SQLAlchemy app's commands, against a SQLite file or PostgreSQL:

  python app.py URL upgrade     alembic upgrade head (the schema and alembic_version)
  python app.py URL populate    the test's objects
  python app.py URL dump        every object, read through the ORM, as canonical JSON
  python app.py URL insert_new  a new object of every model; prints "Model id"

URL: a path ending in .db (SQLite) or a postgres:// URL (psycopg 3)."""
import datetime as dt
import enum
import json
import os
import sys
import uuid
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sqlalchemy import DateTime, create_engine, inspect, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from models import Author, Base, Book, Kind, Status, Tag, book_tags  # noqa: E402

UTC = dt.timezone.utc


def engine_url(arg):
    if arg.startswith("postgres://") or arg.startswith("postgresql://"):
        return "postgresql+psycopg://" + arg.split("://", 1)[1]
    return "sqlite:///" + arg


def upgrade(url):
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", os.path.join(os.path.dirname(__file__), "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, "head")


def populate(s):
    ada = Author(
        name="Ada Lovelace", born=dt.datetime(1815, 12, 10, 9, 30, tzinfo=UTC),
        last_seen=dt.datetime(1852, 11, 27, 8, 0, 0, 1), active=False,
    )
    bob = Author(
        name="Bob O'Brien", born=dt.datetime(2001, 2, 3, 4, 5, 6, 789012, tzinfo=UTC),
        last_seen=dt.datetime(2024, 2, 29, 23, 59, 59, 999999), mentor=ada,
    )
    cy = Author(name="Cy ünïcødé ✓", born=None, last_seen=None, mentor=bob)
    tags = [Tag(label=label) for label in ["sci-fi", "history", "maths", "ÆØÅ"]]
    books = [
        Book(
            uid=uuid.UUID("12345678-1234-5678-1234-567812345678"), title="Notes",
            price=Decimal("12.5000"), rating=0.1,
            meta={"edition": 1, "tags": ["a", "b"], "nested": {"x": None, "y": 1.5}},
            cover=b"\x00\x01\xfe\xff", status=Status.published, kind=Kind.paper,
            published=dt.datetime(1843, 9, 1, 12, tzinfo=UTC), author=ada, tags=tags[:3],
        ),
        Book(
            uid=uuid.UUID("909c8389-2fdf-40fc-b4d9-5fe980764c1d"), title="Zero",
            price=Decimal("0.0000"), rating=2.0, meta={}, cover=b"", kind=Kind.ebook,
            published=dt.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC), author=bob,
            tags=[tags[3]],
        ),
        Book(
            uid=uuid.UUID("0f0e0d0c-0b0a-0908-0706-050403020100"), title="Big",
            price=Decimal("999999.9999"), rating=1 / 3, meta=[1, "two", 3.0],
            status=Status.out_of_print, published=dt.datetime(2030, 1, 1, tzinfo=UTC), author=cy,
        ),
        Book(
            uid=uuid.UUID("ffffffff-ffff-ffff-ffff-ffffffffffff"), title="Negative",
            price=Decimal("-0.0001"), rating=5e-324, meta=None, cover=bytes(range(256)),
            published=dt.datetime(1970, 1, 1, tzinfo=UTC), author=ada, tags=tags,
        ),
    ]
    s.add_all([ada, bob, cy, *tags, *books])


def canon(col, v):
    if isinstance(v, dt.datetime):
        if isinstance(col.type, DateTime) and col.type.timezone:
            # SQLite keeps no offset (reads naive); the app writes UTC: the
            # same instant, said as UTC wall time, either way.
            if v.tzinfo is not None:
                v = v.astimezone(UTC).replace(tzinfo=None)
            return ["datetime (timezone=True)", v.isoformat()]
        # Naive must read back naive.
        return ["datetime", v.isoformat(), "aware" if v.tzinfo else "naive"]
    if isinstance(v, float):
        return ["float", v.hex()]
    if isinstance(v, (bytes, memoryview)):
        return [type(v).__name__, bytes(v).hex()]
    if isinstance(v, (dict, list)):
        return [type(v).__name__, json.dumps(v, sort_keys=True)]
    if isinstance(v, enum.Enum):
        return [type(v).__name__, v.name]
    return [type(v).__name__, repr(v)]


def dump(s):
    out = {}
    for model in (Author, Book, Tag):
        cols = inspect(model).columns
        out[model.__name__] = [
            {c.key: canon(c, getattr(obj, c.key)) for c in cols}
            for obj in s.scalars(select(model).order_by(model.id))
        ]
    out["book_tags"] = [list(r) for r in s.execute(select(book_tags).order_by(*book_tags.c))]
    out["relations"] = {
        "mentor": {a.name: a.mentor.name if a.mentor else None for a in s.scalars(select(Author))},
        "tags": {b.title: sorted(t.label for t in b.tags) for b in s.scalars(select(Book))},
    }
    print(json.dumps(out, indent=1, sort_keys=True, ensure_ascii=False))


def insert_new(s):
    first = s.scalars(select(Author).order_by(Author.id)).first()
    maths = s.scalars(select(Tag).where(Tag.label == "maths")).one()
    a = Author(
        name="new author", born=dt.datetime.now(UTC), last_seen=dt.datetime(2025, 1, 1), mentor=first,
    )
    t = Tag(label="new tag")
    b = Book(
        title="new book", price=Decimal("1.2500"), rating=0.5, meta={"new": True}, cover=b"\x00",
        status=Status.published, kind=Kind.ebook, published=dt.datetime.now(UTC), author=a,
        tags=[t, maths],
    )
    s.add_all([a, t, b])
    s.flush()
    for obj in (a, t, b):
        print(type(obj).__name__, obj.id)
    print("book_tags", len(b.tags))


def main():
    url, cmd = engine_url(sys.argv[1]), sys.argv[2]
    if cmd == "upgrade":
        upgrade(url)
        return
    engine = create_engine(url)
    with Session(engine) as s, s.begin():
        {"populate": populate, "dump": dump, "insert_new": insert_new}[cmd](s)
    if cmd == "populate":
        print("populated")


if __name__ == "__main__":
    main()

"""A small SQLAlchemy 2 app for sqlite2pg's end-to-end test: every kind of
column the issue names (aware and naive DateTime, Numeric(10,4), JSON, Uuid,
Boolean, LargeBinary, two enums, a float), a many-to-many through an
association table, and a self-reference."""
import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Optional

from sqlalchemy import (
    JSON, Boolean, Column, DateTime, Enum, Float, ForeignKey, Integer, LargeBinary, Numeric,
    String, Table, Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Status(enum.Enum):
    draft = "draft"
    published = "pub"
    out_of_print = "oop"


class Kind(enum.Enum):
    paper = "paper"
    ebook = "ebook"


book_tags = Table(
    "book_tags",
    Base.metadata,
    Column("book_id", ForeignKey("books.id"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id"), primary_key=True),
)


class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Aware: the app writes UTC. SQLAlchemy's SQLite dialect stores it
    # without its offset and reads it back naive.
    born: Mapped[Optional[dt.datetime]] = mapped_column(DateTime(timezone=True))
    # Naive wall time, naive in both databases.
    last_seen: Mapped[Optional[dt.datetime]] = mapped_column(DateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    mentor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("authors.id"))
    mentor: Mapped[Optional["Author"]] = relationship(remote_side=[id], back_populates="mentees")
    mentees: Mapped[list["Author"]] = relationship(back_populates="mentor")
    books: Mapped[list["Book"]] = relationship(back_populates="author")


class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(50), unique=True)


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[uuid.UUID] = mapped_column(Uuid, default=uuid.uuid4, unique=True)
    title: Mapped[str] = mapped_column(String(200))
    price: Mapped[Decimal] = mapped_column(Numeric(10, 4))
    rating: Mapped[Optional[float]] = mapped_column(Float)
    meta: Mapped[Optional[dict]] = mapped_column(JSON)
    cover: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    # native_enum=False: a VARCHAR in PostgreSQL too.
    status: Mapped[Status] = mapped_column(Enum(Status, native_enum=False), default=Status.draft)
    # A native enum: `CREATE TYPE kind AS ENUM` in PostgreSQL (create_all),
    # a VARCHAR in SQLite.
    kind: Mapped[Optional[Kind]] = mapped_column(Enum(Kind, name="kind"))
    published: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship(back_populates="books")
    tags: Mapped[list[Tag]] = relationship(secondary=book_tags)

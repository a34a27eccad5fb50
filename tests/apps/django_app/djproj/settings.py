"""A small Django project for sqlite2pg's end-to-end test.

The database comes from the environment:
  S2P_DJANGO_SQLITE=/path/to/file.db        a SQLite file, or
  S2P_DJANGO_PG=postgres://user@host:port/db a PostgreSQL database (psycopg 3).
"""
import os
from urllib.parse import unquote, urlparse

SECRET_KEY = "sqlite2pg-test-only"
DEBUG = False
USE_TZ = True
TIME_ZONE = "Europe/Paris"
ROOT_URLCONF = "djproj.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "shop",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]


def _database():
    if os.environ.get("S2P_DJANGO_SQLITE"):
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["S2P_DJANGO_SQLITE"]}
    url = os.environ.get("S2P_DJANGO_PG")
    if not url:
        raise RuntimeError("set S2P_DJANGO_SQLITE (a file) or S2P_DJANGO_PG (a postgres:// URL)")
    u = urlparse(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(u.path.lstrip("/")),
        "USER": unquote(u.username or ""),
        "PASSWORD": unquote(u.password or ""),
        "HOST": u.hostname or "",
        "PORT": str(u.port or ""),
    }


DATABASES = {"default": _database()}

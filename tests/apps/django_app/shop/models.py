import uuid

from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)
    bio = models.TextField(blank=True)
    born = models.DateTimeField(null=True)
    active = models.BooleanField(default=True)
    mentor = models.ForeignKey("self", null=True, on_delete=models.SET_NULL, related_name="mentees")


class Tag(models.Model):
    label = models.CharField(max_length=50, unique=True)


class Status(models.TextChoices):
    DRAFT = "draft"
    PUBLISHED = "pub"
    OUT_OF_PRINT = "oop"


class Book(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True)
    title = models.CharField(max_length=200)
    pages = models.IntegerField()
    price = models.DecimalField(max_digits=10, decimal_places=2)
    published = models.DateTimeField()
    meta = models.JSONField(default=dict)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    tags = models.ManyToManyField(Tag, related_name="books")
    # Added by 0002: a float (compared bit for bit), bytes, and a choices field.
    rating = models.FloatField(null=True)
    cover = models.BinaryField(null=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)

"""initial: the app's tables (made from the models' metadata: create_all,
run as an Alembic revision so the file carries `alembic_version`).

Revision ID: 0001
"""
from alembic import op

from models import Base

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    Base.metadata.create_all(op.get_bind())


def downgrade():
    Base.metadata.drop_all(op.get_bind())

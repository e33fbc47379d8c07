"""Schema changes for: the HTTP API and access control: none were needed.

Empty on purpose: databases already stamped with this revision must still find it in the chain,
so it stays as a link that changes nothing.

Revision ID: 0002_api
Revises: 0001_initial
"""
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
from alembic import op  # noqa: F401

revision = "0002_api"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

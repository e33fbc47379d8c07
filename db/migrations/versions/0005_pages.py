"""Schema changes for: the web pages: none were needed.

Empty on purpose: databases already stamped with this revision must still find it in the chain,
so it stays as a link that changes nothing.

Revision ID: 0005_pages
Revises: 0004_notifications
"""
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
from alembic import op  # noqa: F401

revision = "0005_pages"
down_revision = "0004_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

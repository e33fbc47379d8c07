"""Schema changes for: web pages (issue 6). Empty until that work needs one.

Revision ID: 0005_pages
Revises: 0004_notifications
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401

revision = "0005_pages"
down_revision = "0004_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

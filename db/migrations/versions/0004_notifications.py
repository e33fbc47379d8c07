"""Schema changes for: reminders and notifications (issue 5). Empty until that work needs one.

Revision ID: 0004_notifications
Revises: 0003_cases
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401

revision = "0004_notifications"
down_revision = "0003_cases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

"""Schema changes for: committee, low-performer cases, reports (issue 4). Empty until that work needs one.

Revision ID: 0003_cases
Revises: 0002_api
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401

revision = "0003_cases"
down_revision = "0002_api"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

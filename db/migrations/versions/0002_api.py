"""Schema changes for: API and access control (issue 3). Empty until that work needs one.

Revision ID: 0002_api
Revises: 0001_initial
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401

revision = "0002_api"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

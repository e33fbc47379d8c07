"""Schema changes for: committee, low-performer cases, reports: a round's evidence names
the PM process step it supports (evidence.step).

Revision ID: 0003_cases
Revises: 0002_api
"""
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
from alembic import op  # noqa: F401

revision = "0003_cases"
down_revision = "0002_api"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(sa.Column("step", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("step")

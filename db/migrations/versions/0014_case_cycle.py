"""The low-performer case as the notices write it: a structured development plan (what to
develop, how, by when) and plan revisions (a still-low follow-up opens a new one).

Revision ID: 0014_case_cycle
Revises: 0012_hr_criteria
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_case_cycle"
down_revision = "0012_hr_criteria"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("low_performer_case") as batch:
        batch.add_column(sa.Column("development_plan_items", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("plan_revision", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("low_performer_case") as batch:
        batch.drop_column("plan_revision")
        batch.drop_column("development_plan_items")

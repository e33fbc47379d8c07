"""HR criteria per organisation and fiscal year (Ubon's round-report form, seed 001).

Revision ID: 0012_hr_criteria
Revises: 0011_jobs
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_hr_criteria"
down_revision = "0011_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hr_criteria",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("org_unit_id", sa.Integer(), sa.ForeignKey("org_unit.id"), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.Integer(), sa.ForeignKey("account.id"), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("org_unit_id", "fiscal_year"),
    )
    op.create_index("ix_hr_criteria_org_unit_id", "hr_criteria", ["org_unit_id"])


def downgrade() -> None:
    op.drop_index("ix_hr_criteria_org_unit_id", table_name="hr_criteria")
    op.drop_table("hr_criteria")

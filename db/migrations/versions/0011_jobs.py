"""Background jobs (a round's forms...): state, progress and the result to download.

Revision ID: 0011_jobs
Revises: 0010_org_level
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_jobs"
down_revision = "0010_org_level"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("account.id"), nullable=True),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("round.id"), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(length=2000), nullable=False),
        sa.Column("owner", sa.String(length=120), nullable=False),
        sa.Column("result", sa.LargeBinary(), nullable=True),
        sa.Column("result_name", sa.String(length=200), nullable=False),
        sa.Column("result_type", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_job_account_id", "job", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_job_account_id", table_name="job")
    op.drop_table("job")

"""The reminder scheduler asks the data what is due: notification_run records each finished
fan-out (a run cut short has none and is finished by the next tick); APScheduler's job store
table goes (the scheduler's few periodic jobs are registered in memory when it becomes active).

Revision ID: 0007_notification_runs
Revises: 0006_second_superior
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_notification_runs"
down_revision = "0006_second_superior"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("round.id"), nullable=False),
        sa.Column("run_key", sa.String(length=80), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=500), nullable=False),
        sa.UniqueConstraint("round_id", "run_key"),
    )
    op.drop_index("ix_apscheduler_jobs_next_run_time", table_name="apscheduler_jobs")
    op.drop_table("apscheduler_jobs")


def downgrade() -> None:
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(191), primary_key=True),
        sa.Column("next_run_time", sa.Float(25), index=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
    )
    op.drop_table("notification_run")

"""Schema changes for: reminders and notifications.

- outbox.body_html: the HTML part of an email, rendered when the send is decided;
- apscheduler_jobs: APScheduler 3's SQLAlchemyJobStore table (its own schema), so the job
  store lives in the application's database and is created by migrations, not at run time;
- indexes to find the deliveries due, and the inbox message of an outbox row.

Revision ID: 0004_notifications
Revises: 0003_cases
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_notifications"
down_revision = "0003_cases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("body_html", sa.Text(), nullable=False, server_default=""))
    op.create_index("ix_outbox_status_next", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_inbox_message_outbox_id", "inbox_message", ["outbox_id"])
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(191), primary_key=True),
        sa.Column("next_run_time", sa.Float(25), index=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("apscheduler_jobs")
    op.drop_index("ix_inbox_message_outbox_id", table_name="inbox_message")
    op.drop_index("ix_outbox_status_next", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("body_html")

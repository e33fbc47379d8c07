"""Reminders of the agency assessments' SAR milestones go through the same outbox.

An outbox row names either a round's milestone (`milestone_id`, as before) or an agency
milestone (`agency_milestone_id`, new), exactly one of the two (a CHECK). Two nullable foreign
keys rather than one generic "subject" key: each keeps its foreign key, and every existing
query on `milestone_id` stays as it is. The "send once" key of an agency reminder is its own
unique constraint (agency milestone, offset, recipient, channel), the twin of the round one
(a NULL never collides, so each kind of row is held unique by its own constraint).

The agency milestone an outbox row names stands for the province's SAR milestone: all the
province's agencies share the fiscal year's SAR dates, and each recipient gets one digest,
anchored on the lowest-numbered agency milestone of that province, code and date.

`notification_run.round_id` becomes nullable: a finished agency SAR reminder is recorded
with no round (its run key starts with "agency:").

Revision ID: 0015_agency_reminders
Revises: 0014_case_cycle
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_agency_reminders"
down_revision = "0014_case_cycle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("milestone_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("agency_milestone_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_outbox_agency_milestone_id", "agency_milestone",
                                 ["agency_milestone_id"], ["id"])
        batch.create_index("ix_outbox_agency_milestone_id", ["agency_milestone_id"])
        batch.create_unique_constraint("uq_outbox_agency_key", ["agency_milestone_id", "offset_key",
                                                                "recipient_person_id", "channel"])
        batch.create_check_constraint("ck_outbox_one_milestone",
                                      "(milestone_id IS NULL) <> (agency_milestone_id IS NULL)")
    with op.batch_alter_table("notification_run") as batch:
        batch.alter_column("round_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM notification_run WHERE round_id IS NULL")
    op.execute("DELETE FROM inbox_message WHERE outbox_id IN "
               "(SELECT id FROM outbox WHERE agency_milestone_id IS NOT NULL)")
    op.execute("DELETE FROM outbox WHERE agency_milestone_id IS NOT NULL")
    with op.batch_alter_table("notification_run") as batch:
        batch.alter_column("round_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("ck_outbox_one_milestone", type_="check")
        batch.drop_constraint("uq_outbox_agency_key", type_="unique")
        batch.drop_index("ix_outbox_agency_milestone_id")
        batch.drop_constraint("fk_outbox_agency_milestone_id", type_="foreignkey")
        batch.drop_column("agency_milestone_id")
        batch.alter_column("milestone_id", existing_type=sa.Integer(), nullable=False)

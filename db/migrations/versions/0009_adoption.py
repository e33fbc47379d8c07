"""An organisation's own policy: every attachment kept with who and when; milestone due dates
moved by HR for one round, with who and when.

Revision ID: 0009_adoption
Revises: 0008_login_throttle
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_adoption"
down_revision = "0008_login_throttle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_attachment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("org_unit_id", sa.Integer(), sa.ForeignKey("org_unit.id"), nullable=False),
        sa.Column("policy_version_id", sa.Integer(), sa.ForeignKey("policy_version.id"), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("account.id"), nullable=True),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("attached_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_policy_attachment_org_unit_id", "policy_attachment", ["org_unit_id"])
    op.create_table(
        "milestone_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("milestone_id", sa.Integer(), sa.ForeignKey("milestone.id"), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=False),
        sa.Column("to_date", sa.Date(), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("account.id"), nullable=True),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_milestone_change_milestone_id", "milestone_change", ["milestone_id"])


def downgrade() -> None:
    op.drop_index("ix_milestone_change_milestone_id", table_name="milestone_change")
    op.drop_table("milestone_change")
    op.drop_index("ix_policy_attachment_org_unit_id", table_name="policy_attachment")
    op.drop_table("policy_attachment")

"""Failed sign-ins per account and source (login_throttle); tokens of one sign-in share an id.

Revision ID: 0008_login_throttle
Revises: 0007_notification_runs
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_login_throttle"
down_revision = "0007_notification_runs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("account.id"), primary_key=True),
        sa.Column("source", sa.String(length=64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    )
    with op.batch_alter_table("auth_token") as batch:
        batch.add_column(sa.Column("sign_in", sa.String(length=32), nullable=False, server_default=""))
    op.create_index("ix_auth_token_sign_in", "auth_token", ["sign_in"])


def downgrade() -> None:
    op.drop_index("ix_auth_token_sign_in", table_name="auth_token")
    with op.batch_alter_table("auth_token") as batch:
        batch.drop_column("sign_in")
    op.drop_table("login_throttle")

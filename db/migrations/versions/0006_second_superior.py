"""The second superior above (policy superior_levels = 2) and their opinion on the appraisal.

Revision ID: 0006_second_superior
Revises: 0005_pages
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_second_superior"
down_revision = "0005_pages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite cannot add a foreign key to an existing table in place
    with op.batch_alter_table("appraisal") as batch:
        batch.add_column(sa.Column("superior2_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("superior2_opinion", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("superior2_total_percent", sa.Numeric(5, 2), nullable=True))
        batch.add_column(sa.Column("superior2_reason", sa.Text(), nullable=True))
        batch.create_foreign_key("fk_appraisal_superior2_id_person", "person", ["superior2_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("appraisal") as batch:
        batch.drop_constraint("fk_appraisal_superior2_id_person", type_="foreignkey")
        for column in ("superior2_reason", "superior2_total_percent", "superior2_opinion", "superior2_id"):
            batch.drop_column(column)

"""Indexes for the hot paths at 100,000 appraisals (benchmarks/query_plans.py found each).

- `appraisal.superior2_id`: My tasks asks "where am I the appraisee, evaluator, superior or
  second superior?"; without an index on the fourth column the whole table was read to find
  an evaluator's nineteen appraisals.
- `appraisal (round_id, org_unit_id, state)`, on PostgreSQL with the people columns
  included: a round's counts by unit and state and HR's visibility test read the index
  alone. SQLite has no INCLUDE and builds the plain index.
- `appraisal (round_id, id)`: a list's page is a round's appraisals in id order; with only
  the primary key to give that order, a small organisation's first page walked past every
  other organisation's appraisals to find its fifty.
- `outbox (id) WHERE status = 'pending'`: the deliveries due are a few waiting rows among
  every message ever sent; the primary key walked past all of them.

Revision ID: 0016_hot_path_indexes
Revises: 0015_agency_reminders
"""
import sqlalchemy as sa
from alembic import op

revision = "0016_hot_path_indexes"
down_revision = "0015_agency_reminders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_appraisal_superior2_id", "appraisal", ["superior2_id"])
    op.create_index("ix_appraisal_round_id", "appraisal", ["round_id", "id"])
    op.create_index("ix_appraisal_round_unit_state", "appraisal", ["round_id", "org_unit_id", "state"],
                    postgresql_include=["person_id", "evaluator_id", "superior_id", "superior2_id"])
    op.create_index("ix_outbox_pending", "outbox", ["id"], postgresql_where=sa.text("status = 'pending'"),
                    sqlite_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.drop_index("ix_appraisal_round_unit_state", table_name="appraisal")
    op.drop_index("ix_appraisal_round_id", table_name="appraisal")
    op.drop_index("ix_appraisal_superior2_id", table_name="appraisal")

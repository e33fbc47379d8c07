"""The organisation level: organisation KPIs in full (weight, five targets, retired), KPI sets
kept per position, and the agency assessment (its milestones and SAR lines).

Revision ID: 0010_org_level
Revises: 0009_adoption
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_org_level"
down_revision = "0009_adoption"
branch_labels = None
depends_on = None


def _ts(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("org_kpi") as batch:
        batch.add_column(sa.Column("weight", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("level_descriptions", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("retired", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_unique_constraint("uq_org_kpi_org_year_code", ["org_unit_id", "fiscal_year", "code"])
    op.create_table(
        "kpi_set",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("org_unit_id", sa.Integer(), sa.ForeignKey("org_unit.id"), nullable=False),
        sa.Column("position", sa.String(length=300), nullable=False),
        sa.Column("kpis", sa.JSON(), nullable=True),
        _ts("updated_at"),
        sa.UniqueConstraint("org_unit_id", "position", name="uq_kpi_set_org_position"),
    )
    op.create_index("ix_kpi_set_org_unit_id", "kpi_set", ["org_unit_id"])
    op.create_table(
        "agency_assessment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("org_unit_id", sa.Integer(), sa.ForeignKey("org_unit.id"), nullable=False),
        sa.Column("province_id", sa.Integer(), sa.ForeignKey("org_unit.id"), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("policy_version_id", sa.Integer(), sa.ForeignKey("policy_version.id"), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("dimensions", sa.Text(), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("levels", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("total_percent", sa.Numeric(5, 2), nullable=True),
        sa.Column("rating_code", sa.String(length=32), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=False),
        _ts("updated_at"),
        sa.UniqueConstraint("org_unit_id", "fiscal_year", name="uq_agency_assessment_org_year"),
    )
    op.create_index("ix_agency_assessment_org_unit_id", "agency_assessment", ["org_unit_id"])
    op.create_index("ix_agency_assessment_province_id", "agency_assessment", ["province_id"])
    op.create_table(
        "agency_milestone",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("assessment_id", sa.Integer(), sa.ForeignKey("agency_assessment.id"), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.UniqueConstraint("assessment_id", "code", name="uq_agency_milestone_code"),
    )
    op.create_index("ix_agency_milestone_assessment_id", "agency_milestone", ["assessment_id"])
    op.create_table(
        "agency_sar",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("assessment_id", sa.Integer(), sa.ForeignKey("agency_assessment.id"), nullable=False),
        sa.Column("milestone", sa.String(length=32), nullable=False),
        sa.Column("kpi_id", sa.String(length=64), nullable=False),
        sa.Column("progress", sa.Text(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("author_person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=True),
        _ts("created_at"),
    )
    op.create_index("ix_agency_sar_assessment_id", "agency_sar", ["assessment_id"])


def downgrade() -> None:
    for table in ("agency_sar", "agency_milestone", "agency_assessment", "kpi_set"):
        op.drop_table(table)
    with op.batch_alter_table("org_kpi") as batch:
        batch.drop_constraint("uq_org_kpi_org_year_code", type_="unique")
        for column in ("retired", "level_descriptions", "weight"):
            batch.drop_column(column)

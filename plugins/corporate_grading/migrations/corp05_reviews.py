"""corporate-grading: reviews tables

Revision ID: corp05
Revises: corp04
"""
from alembic import op
import sqlalchemy as sa

from core.rls import disable_tenant_rls, enable_tenant_rls

revision = "corp05"
down_revision = "corp04"
branch_labels = None
depends_on = None

TENANT_TABLES: tuple[str, ...] = ("corp_review_assignment",)


def upgrade() -> None:
    op.create_table(
        "corp_review_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("rater_id", sa.Integer(), nullable=False),
        sa.Column("group", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("rating", sa.Numeric(precision=4, scale=2), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "cycle_id"], ["cycle.tenant_id", "cycle.id"],
                                name=op.f("fk_corp_review_assignment_tenant_id_cycle"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id", "subject_id"], ["cycle_subject.tenant_id", "cycle_subject.id"],
                                name=op.f("fk_corp_review_assignment_tenant_id_cycle_subject"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id", "rater_id"], ["person.tenant_id", "person.id"],
                                name=op.f("fk_corp_review_assignment_tenant_id_person"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_corp_review_assignment_tenant_id_tenant"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_review_assignment")),
        sa.UniqueConstraint("tenant_id", "subject_id", "rater_id",
                            name=op.f("uq_corp_review_assignment_tenant_id_subject_id_rater_id")),
    )
    op.create_index(op.f("ix_corp_review_assignment_tenant_id"), "corp_review_assignment", ["tenant_id"], unique=False)
    op.create_index("ix_corp_review_assignment_cycle", "corp_review_assignment", ["tenant_id", "cycle_id", "subject_id"],
                    unique=False)
    op.create_index("ix_corp_review_assignment_rater", "corp_review_assignment", ["tenant_id", "rater_id"], unique=False)
    for table in TENANT_TABLES:
        enable_tenant_rls(op, table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(op, table)
    op.drop_index("ix_corp_review_assignment_rater", table_name="corp_review_assignment")
    op.drop_index("ix_corp_review_assignment_cycle", table_name="corp_review_assignment")
    op.drop_index(op.f("ix_corp_review_assignment_tenant_id"), table_name="corp_review_assignment")
    op.drop_table("corp_review_assignment")

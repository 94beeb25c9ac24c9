"""corporate-grading: the confidence vote on class A leaders

Revision ID: corp08
Revises: corp07
"""
from alembic import op
import sqlalchemy as sa

from core.rls import disable_tenant_rls, enable_tenant_rls

revision = "corp08"
down_revision = "corp07"
branch_labels = None
depends_on = None

TENANT_TABLES: tuple[str, ...] = ("corp_confidence_vote",)


def upgrade() -> None:
    op.create_table(
        "corp_confidence_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("trust", sa.Integer(), nullable=False),
        sa.Column("basic_trust", sa.Integer(), nullable=False),
        sa.Column("distrust", sa.Integer(), nullable=False),
        sa.Column("abstain", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "cycle_id"], ["cycle.tenant_id", "cycle.id"],
                                name=op.f("fk_corp_confidence_vote_tenant_id_cycle"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id", "subject_id"], ["cycle_subject.tenant_id", "cycle_subject.id"],
                                name=op.f("fk_corp_confidence_vote_tenant_id_cycle_subject"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_corp_confidence_vote_tenant_id_tenant"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_confidence_vote")),
        sa.UniqueConstraint("tenant_id", "cycle_id", "subject_id",
                            name=op.f("uq_corp_confidence_vote_tenant_id_cycle_id_subject_id")),
    )
    op.create_index(op.f("ix_corp_confidence_vote_tenant_id"), "corp_confidence_vote", ["tenant_id"], unique=False)
    for table in TENANT_TABLES:
        enable_tenant_rls(op, table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(op, table)
    op.drop_index(op.f("ix_corp_confidence_vote_tenant_id"), table_name="corp_confidence_vote")
    op.drop_table("corp_confidence_vote")

"""corporate-grading: approvals tables

Revision ID: corp06
Revises: corp05
"""
from alembic import op
import sqlalchemy as sa

from core.rls import disable_tenant_rls, enable_tenant_rls

revision = "corp06"
down_revision = "corp05"
branch_labels = None
depends_on = None

TENANT_TABLES: tuple[str, ...] = ("corp_approval", "corp_approval_event")


def upgrade() -> None:
    op.create_table(
        "corp_approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("chain", sa.String(length=1), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "cycle_id"], ["cycle.tenant_id", "cycle.id"],
                                name=op.f("fk_corp_approval_tenant_id_cycle"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id", "subject_id"], ["cycle_subject.tenant_id", "cycle_subject.id"],
                                name=op.f("fk_corp_approval_tenant_id_cycle_subject"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_corp_approval_tenant_id_tenant"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_approval")),
        sa.UniqueConstraint("tenant_id", "subject_id", name=op.f("uq_corp_approval_tenant_id_subject_id")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_corp_approval_tenant_id_id")),
    )
    op.create_index(op.f("ix_corp_approval_tenant_id"), "corp_approval", ["tenant_id"], unique=False)
    op.create_index("ix_corp_approval_cycle", "corp_approval", ["tenant_id", "cycle_id", "state"], unique=False)
    op.create_table(
        "corp_approval_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("approval_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("step", sa.String(length=20), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("as_hr", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("score_before", sa.String(length=20), nullable=True),
        sa.Column("score", sa.String(length=20), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "approval_id"], ["corp_approval.tenant_id", "corp_approval.id"],
                                name=op.f("fk_corp_approval_event_tenant_id_corp_approval"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id", "user_id"], ["user_account.tenant_id", "user_account.id"],
                                name=op.f("fk_corp_approval_event_tenant_id_user_account")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_corp_approval_event_tenant_id_tenant"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_approval_event")),
    )
    op.create_index(op.f("ix_corp_approval_event_tenant_id"), "corp_approval_event", ["tenant_id"], unique=False)
    op.create_index("ix_corp_approval_event_approval", "corp_approval_event", ["tenant_id", "approval_id"], unique=False)
    for table in TENANT_TABLES:
        enable_tenant_rls(op, table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(op, table)
    op.drop_index("ix_corp_approval_event_approval", table_name="corp_approval_event")
    op.drop_index(op.f("ix_corp_approval_event_tenant_id"), table_name="corp_approval_event")
    op.drop_table("corp_approval_event")
    op.drop_index("ix_corp_approval_cycle", table_name="corp_approval")
    op.drop_index(op.f("ix_corp_approval_tenant_id"), table_name="corp_approval")
    op.drop_table("corp_approval")

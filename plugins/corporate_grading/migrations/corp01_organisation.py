"""corporate-grading: posts and oversight

Revision ID: corp01
Revises: (the plugin's branch starts here, after the core's 0004)
"""
from alembic import op
import sqlalchemy as sa

from core.rls import disable_tenant_rls, enable_tenant_rls

revision = "corp01"
down_revision = None
branch_labels = ("corporate_grading",)
depends_on = "0004"

TENANT_TABLES = ("corp_post", "corp_oversight")


def upgrade() -> None:
    op.create_table(
        "corp_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post", sa.String(length=30), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "user_id"], ["user_account.tenant_id", "user_account.id"],
                                name=op.f("fk_corp_post_tenant_id_user_account"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_corp_post_tenant_id_tenant"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_post")),
        sa.UniqueConstraint("tenant_id", "post", "user_id", name=op.f("uq_corp_post_tenant_id_post_user_id")),
    )
    op.create_index(op.f("ix_corp_post_tenant_id"), "corp_post", ["tenant_id"], unique=False)
    op.create_table(
        "corp_oversight",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "person_id"], ["person.tenant_id", "person.id"],
                                name=op.f("fk_corp_oversight_tenant_id_person"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id", "unit_id"], ["org_unit.tenant_id", "org_unit.id"],
                                name=op.f("fk_corp_oversight_tenant_id_org_unit"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_corp_oversight_tenant_id_tenant"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_oversight")),
        sa.UniqueConstraint("tenant_id", "person_id", "unit_id", name=op.f("uq_corp_oversight_tenant_id_person_id_unit_id")),
    )
    op.create_index(op.f("ix_corp_oversight_tenant_id"), "corp_oversight", ["tenant_id"], unique=False)
    for table in TENANT_TABLES:
        enable_tenant_rls(op, table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(op, table)
    op.drop_table("corp_oversight")
    op.drop_table("corp_post")

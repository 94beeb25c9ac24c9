"""corporate-grading: committee tables

Revision ID: corp04
Revises: corp03
"""
from alembic import op
import sqlalchemy as sa

from core.rls import disable_tenant_rls, enable_tenant_rls

revision = "corp04"
down_revision = "corp03"
branch_labels = None
depends_on = None

TENANT_TABLES: tuple[str, ...] = ("corp_committee_meeting", "corp_committee_member", "corp_committee_item",
                                  "corp_committee_vote")


def _tenant_fk(table: str):
    return sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f(f"fk_{table}_tenant_id_tenant"), ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "corp_committee_meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("meeting_date", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "cycle_id"], ["cycle.tenant_id", "cycle.id"],
                                name=op.f("fk_corp_committee_meeting_tenant_id_cycle"), ondelete="CASCADE"),
        _tenant_fk("corp_committee_meeting"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_committee_meeting")),
        sa.UniqueConstraint("tenant_id", "cycle_id", name=op.f("uq_corp_committee_meeting_tenant_id_cycle_id")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_corp_committee_meeting_tenant_id_id")),
    )
    op.create_index(op.f("ix_corp_committee_meeting_tenant_id"), "corp_committee_meeting", ["tenant_id"], unique=False)

    op.create_table(
        "corp_committee_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("seat", sa.String(length=12), nullable=False),
        sa.Column("voting", sa.Boolean(), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "meeting_id"], ["corp_committee_meeting.tenant_id", "corp_committee_meeting.id"],
                                name=op.f("fk_corp_committee_member_tenant_id_corp_committee_meeting"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id", "user_id"], ["user_account.tenant_id", "user_account.id"],
                                name=op.f("fk_corp_committee_member_tenant_id_user_account")),
        _tenant_fk("corp_committee_member"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_committee_member")),
        sa.UniqueConstraint("tenant_id", "meeting_id", "user_id",
                            name=op.f("uq_corp_committee_member_tenant_id_meeting_id_user_id")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_corp_committee_member_tenant_id_id")),
    )
    op.create_index(op.f("ix_corp_committee_member_tenant_id"), "corp_committee_member", ["tenant_id"], unique=False)

    op.create_table(
        "corp_committee_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("report_notes", sa.Text(), nullable=False),
        sa.Column("comments", sa.Text(), nullable=False),
        sa.Column("head_left", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("proposed", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("votes_for", sa.Integer(), nullable=False),
        sa.Column("votes_against", sa.Integer(), nullable=False),
        sa.Column("chair_vote", sa.String(length=10), nullable=True),
        sa.Column("chair_vote_by", sa.String(length=120), nullable=True),
        sa.Column("members", sa.Integer(), nullable=True),
        sa.Column("adopted", sa.Boolean(), nullable=True),
        sa.Column("decision_note", sa.String(length=300), nullable=True),
        sa.Column("adjustment", sa.JSON(), nullable=True),
        sa.Column("closed_by", sa.String(length=120), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "meeting_id"], ["corp_committee_meeting.tenant_id", "corp_committee_meeting.id"],
                                name=op.f("fk_corp_committee_item_tenant_id_corp_committee_meeting"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id", "subject_id"], ["cycle_subject.tenant_id", "cycle_subject.id"],
                                name=op.f("fk_corp_committee_item_tenant_id_cycle_subject"), ondelete="CASCADE"),
        _tenant_fk("corp_committee_item"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_committee_item")),
        sa.UniqueConstraint("tenant_id", "meeting_id", "subject_id",
                            name=op.f("uq_corp_committee_item_tenant_id_meeting_id_subject_id")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_corp_committee_item_tenant_id_id")),
    )
    op.create_index(op.f("ix_corp_committee_item_tenant_id"), "corp_committee_item", ["tenant_id"], unique=False)

    op.create_table(
        "corp_committee_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(length=10), nullable=False),
        sa.Column("cast_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "item_id"], ["corp_committee_item.tenant_id", "corp_committee_item.id"],
                                name=op.f("fk_corp_committee_vote_tenant_id_corp_committee_item"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id", "member_id"], ["corp_committee_member.tenant_id", "corp_committee_member.id"],
                                name=op.f("fk_corp_committee_vote_tenant_id_corp_committee_member"), ondelete="CASCADE"),
        _tenant_fk("corp_committee_vote"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_committee_vote")),
        sa.UniqueConstraint("tenant_id", "item_id", "member_id",
                            name=op.f("uq_corp_committee_vote_tenant_id_item_id_member_id")),
    )
    op.create_index(op.f("ix_corp_committee_vote_tenant_id"), "corp_committee_vote", ["tenant_id"], unique=False)
    for table in TENANT_TABLES:
        enable_tenant_rls(op, table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(op, table)
    op.drop_table("corp_committee_vote")
    op.drop_table("corp_committee_item")
    op.drop_table("corp_committee_member")
    op.drop_table("corp_committee_meeting")

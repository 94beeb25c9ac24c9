"""acknowledgements appeals holidays notifications

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 15:48:29.225451
"""
from alembic import op
import sqlalchemy as sa

from core.rls import disable_tenant_rls, enable_tenant_rls

TENANT_TABLES = ("acknowledgement", "appeal", "holiday", "notification")


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('holiday',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_holiday_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holiday')),
    sa.UniqueConstraint('tenant_id', 'day', name=op.f('uq_holiday_tenant_id_day'))
    )
    with op.batch_alter_table('holiday', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_holiday_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('message', sa.String(length=300), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['user_account.tenant_id', 'user_account.id'], name=op.f('fk_notification_tenant_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_notification_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_notification_user', ['tenant_id', 'user_id', 'read_at'], unique=False)

    op.create_table('acknowledgement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('result_id', sa.Integer(), nullable=False),
    sa.Column('interview_record', sa.Text(), nullable=True),
    sa.Column('interview_by', sa.String(length=120), nullable=True),
    sa.Column('interview_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('person_signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('assessor_signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('assessor_signed_by', sa.String(length=120), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'result_id'], ['cycle_result.tenant_id', 'cycle_result.id'], name=op.f('fk_acknowledgement_tenant_id_cycle_result'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_acknowledgement_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_acknowledgement')),
    sa.UniqueConstraint('tenant_id', 'result_id', name=op.f('uq_acknowledgement_tenant_id_result_id'))
    )
    with op.batch_alter_table('acknowledgement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_acknowledgement_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('appeal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('result_id', sa.Integer(), nullable=False),
    sa.Column('filed_by', sa.String(length=120), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('investigation', sa.Text(), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('new_score', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('decided_by', sa.String(length=120), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'result_id'], ['cycle_result.tenant_id', 'cycle_result.id'], name=op.f('fk_appeal_tenant_id_cycle_result'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_appeal_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal'))
    )
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.create_index('ix_appeal_result', ['tenant_id', 'result_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeal_tenant_id'), ['tenant_id'], unique=False)

    for table in TENANT_TABLES:
        enable_tenant_rls(op, table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(op, table)
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_tenant_id'))
        batch_op.drop_index('ix_appeal_result')

    op.drop_table('appeal')
    with op.batch_alter_table('acknowledgement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acknowledgement_tenant_id'))

    op.drop_table('acknowledgement')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user')
        batch_op.drop_index(batch_op.f('ix_notification_tenant_id'))

    op.drop_table('notification')
    with op.batch_alter_table('holiday', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_holiday_tenant_id'))

    op.drop_table('holiday')

"""assessment cycles, subjects, results, score history

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 15:43:24.804903
"""
from alembic import op
import sqlalchemy as sa

from core.rls import disable_tenant_rls, enable_tenant_rls

TENANT_TABLES = ("cycle", "cycle_subject", "cycle_result", "score_change")


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cycle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('scheme_id', sa.String(length=60), nullable=False),
    sa.Column('scheme_version', sa.String(length=20), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('selection', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_cycle_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_cycle_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'scheme_id', 'period', 'name', name=op.f('uq_cycle_tenant_id_scheme_id_period_name'))
    )
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cycle_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('cycle_subject',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('unit_kind', sa.String(length=20), nullable=True),
    sa.Column('staff_class', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=True),
    sa.Column('eligible', sa.Boolean(), nullable=False),
    sa.Column('excluded_reason', sa.String(length=200), nullable=True),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('inputs_version', sa.Integer(), nullable=False),
    sa.Column('inputs_updated_by', sa.String(length=120), nullable=True),
    sa.Column('inputs_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'cycle_id'], ['cycle.tenant_id', 'cycle.id'], name=op.f('fk_cycle_subject_tenant_id_cycle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'person_id'], ['person.tenant_id', 'person.id'], name=op.f('fk_cycle_subject_tenant_id_person')),
    sa.ForeignKeyConstraint(['tenant_id', 'unit_id'], ['org_unit.tenant_id', 'org_unit.id'], name=op.f('fk_cycle_subject_tenant_id_org_unit')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_cycle_subject_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle_subject')),
    sa.UniqueConstraint('tenant_id', 'cycle_id', 'kind', 'code', name=op.f('uq_cycle_subject_tenant_id_cycle_id_kind_code')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_cycle_subject_tenant_id_id'))
    )
    with op.batch_alter_table('cycle_subject', schema=None) as batch_op:
        batch_op.create_index('ix_cycle_subject_cycle', ['tenant_id', 'cycle_id', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_cycle_subject_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('cycle_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('grade', sa.String(length=10), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.Column('breakdown', sa.JSON(), nullable=True),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('adjusted', sa.Boolean(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'cycle_id'], ['cycle.tenant_id', 'cycle.id'], name=op.f('fk_cycle_result_tenant_id_cycle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'subject_id'], ['cycle_subject.tenant_id', 'cycle_subject.id'], name=op.f('fk_cycle_result_tenant_id_cycle_subject'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_cycle_result_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle_result')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_cycle_result_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'subject_id', name=op.f('uq_cycle_result_tenant_id_subject_id'))
    )
    with op.batch_alter_table('cycle_result', schema=None) as batch_op:
        batch_op.create_index('ix_cycle_result_cycle', ['tenant_id', 'cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cycle_result_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('score_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('result_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('score_before', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('score_after', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('grade_before', sa.String(length=10), nullable=True),
    sa.Column('grade_after', sa.String(length=10), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'result_id'], ['cycle_result.tenant_id', 'cycle_result.id'], name=op.f('fk_score_change_tenant_id_cycle_result'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_score_change_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_change'))
    )
    with op.batch_alter_table('score_change', schema=None) as batch_op:
        batch_op.create_index('ix_score_change_result', ['tenant_id', 'result_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_score_change_tenant_id'), ['tenant_id'], unique=False)

    for table in TENANT_TABLES:
        enable_tenant_rls(op, table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(op, table)
    with op.batch_alter_table('score_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_change_tenant_id'))
        batch_op.drop_index('ix_score_change_result')

    op.drop_table('score_change')
    with op.batch_alter_table('cycle_result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cycle_result_tenant_id'))
        batch_op.drop_index('ix_cycle_result_cycle')

    op.drop_table('cycle_result')
    with op.batch_alter_table('cycle_subject', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cycle_subject_tenant_id'))
        batch_op.drop_index('ix_cycle_subject_cycle')

    op.drop_table('cycle_subject')
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cycle_tenant_id'))

    op.drop_table('cycle')

"""gov-public-evaluation: indicator points, the survey and its links, inspections and information reports

Revision ID: gov01
Revises: (the plugin's branch starts here, after the core's 0004)
"""
from alembic import op
import sqlalchemy as sa

from core.rls import disable_tenant_rls, enable_tenant_rls

revision = "gov01"
down_revision = None
branch_labels = ("gov_public_evaluation",)
depends_on = "0004"

TENANT_TABLES = ('gov_indicator_entry', 'gov_info_report', 'gov_inspection', 'gov_survey_question', 'gov_survey_quota', 'gov_survey_response', 'gov_token_batch', 'gov_survey_token')


def upgrade() -> None:
    op.create_table('gov_indicator_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('points', sa.String(length=16), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('entered_by', sa.String(length=120), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('verified_by', sa.String(length=120), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verification_note', sa.Text(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'cycle_id'], ['cycle.tenant_id', 'cycle.id'], name=op.f('fk_gov_indicator_entry_tenant_id_cycle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'unit_id'], ['org_unit.tenant_id', 'org_unit.id'], name=op.f('fk_gov_indicator_entry_tenant_id_org_unit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_gov_indicator_entry_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gov_indicator_entry')),
    sa.UniqueConstraint('tenant_id', 'cycle_id', 'unit_id', 'code', name=op.f('uq_gov_indicator_entry_tenant_id_cycle_id_unit_id_code'))
    )
    op.create_index(op.f('ix_gov_indicator_entry_cycle_id'), 'gov_indicator_entry', ['cycle_id'], unique=False)
    op.create_index(op.f('ix_gov_indicator_entry_tenant_id'), 'gov_indicator_entry', ['tenant_id'], unique=False)
    op.create_table('gov_info_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('adopted_by', sa.String(length=120), nullable=False),
    sa.Column('recorded_by', sa.String(length=120), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'unit_id'], ['org_unit.tenant_id', 'org_unit.id'], name=op.f('fk_gov_info_report_tenant_id_org_unit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_gov_info_report_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gov_info_report')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_gov_info_report_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'unit_id', 'day', 'title', name=op.f('uq_gov_info_report_tenant_id_unit_id_day_title'))
    )
    op.create_index(op.f('ix_gov_info_report_day'), 'gov_info_report', ['day'], unique=False)
    op.create_index(op.f('ix_gov_info_report_tenant_id'), 'gov_info_report', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_gov_info_report_unit_id'), 'gov_info_report', ['unit_id'], unique=False)
    op.create_table('gov_inspection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=200), nullable=False),
    sa.Column('points', sa.String(length=16), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.String(length=120), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'unit_id'], ['org_unit.tenant_id', 'org_unit.id'], name=op.f('fk_gov_inspection_tenant_id_org_unit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_gov_inspection_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gov_inspection')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_gov_inspection_tenant_id_id'))
    )
    op.create_index(op.f('ix_gov_inspection_day'), 'gov_inspection', ['day'], unique=False)
    op.create_index(op.f('ix_gov_inspection_tenant_id'), 'gov_inspection', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_gov_inspection_unit_id'), 'gov_inspection', ['unit_id'], unique=False)
    op.create_table('gov_survey_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=60), nullable=False),
    sa.Column('text_zh', sa.Text(), nullable=False),
    sa.Column('text_en', sa.Text(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'cycle_id'], ['cycle.tenant_id', 'cycle.id'], name=op.f('fk_gov_survey_question_tenant_id_cycle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_gov_survey_question_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gov_survey_question')),
    sa.UniqueConstraint('tenant_id', 'cycle_id', 'position', name=op.f('uq_gov_survey_question_tenant_id_cycle_id_position')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_gov_survey_question_tenant_id_id'))
    )
    op.create_index(op.f('ix_gov_survey_question_cycle_id'), 'gov_survey_question', ['cycle_id'], unique=False)
    op.create_index(op.f('ix_gov_survey_question_tenant_id'), 'gov_survey_question', ['tenant_id'], unique=False)
    op.create_table('gov_survey_quota',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('per_unit', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'cycle_id'], ['cycle.tenant_id', 'cycle.id'], name=op.f('fk_gov_survey_quota_tenant_id_cycle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_gov_survey_quota_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gov_survey_quota')),
    sa.UniqueConstraint('tenant_id', 'cycle_id', 'category', name=op.f('uq_gov_survey_quota_tenant_id_cycle_id_category'))
    )
    op.create_index(op.f('ix_gov_survey_quota_tenant_id'), 'gov_survey_quota', ['tenant_id'], unique=False)
    op.create_table('gov_survey_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('submission_key', sa.String(length=64), nullable=False),
    sa.Column('token_id', sa.Integer(), nullable=True),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('satisfied', sa.Integer(), nullable=False),
    sa.Column('basically_satisfied', sa.Integer(), nullable=False),
    sa.Column('dissatisfied', sa.Integer(), nullable=False),
    sa.Column('dont_know', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('entered_by', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'cycle_id'], ['cycle.tenant_id', 'cycle.id'], name=op.f('fk_gov_survey_response_tenant_id_cycle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'unit_id'], ['org_unit.tenant_id', 'org_unit.id'], name=op.f('fk_gov_survey_response_tenant_id_org_unit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_gov_survey_response_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gov_survey_response')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_gov_survey_response_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'submission_key', name=op.f('uq_gov_survey_response_tenant_id_submission_key'))
    )
    op.create_index('ix_gov_survey_response_cycle', 'gov_survey_response', ['tenant_id', 'cycle_id', 'unit_id', 'category'], unique=False)
    op.create_index(op.f('ix_gov_survey_response_tenant_id'), 'gov_survey_response', ['tenant_id'], unique=False)
    op.create_table('gov_token_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'cycle_id'], ['cycle.tenant_id', 'cycle.id'], name=op.f('fk_gov_token_batch_tenant_id_cycle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_gov_token_batch_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gov_token_batch')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_gov_token_batch_tenant_id_id'))
    )
    op.create_index(op.f('ix_gov_token_batch_cycle_id'), 'gov_token_batch', ['cycle_id'], unique=False)
    op.create_index(op.f('ix_gov_token_batch_tenant_id'), 'gov_token_batch', ['tenant_id'], unique=False)
    op.create_table('gov_survey_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'batch_id'], ['gov_token_batch.tenant_id', 'gov_token_batch.id'], name=op.f('fk_gov_survey_token_tenant_id_gov_token_batch'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'cycle_id'], ['cycle.tenant_id', 'cycle.id'], name=op.f('fk_gov_survey_token_tenant_id_cycle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'unit_id'], ['org_unit.tenant_id', 'org_unit.id'], name=op.f('fk_gov_survey_token_tenant_id_org_unit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_gov_survey_token_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gov_survey_token')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_gov_survey_token_tenant_id_id')),
    sa.UniqueConstraint('token', name=op.f('uq_gov_survey_token_token'))
    )
    op.create_index(op.f('ix_gov_survey_token_batch_id'), 'gov_survey_token', ['batch_id'], unique=False)
    op.create_index(op.f('ix_gov_survey_token_tenant_id'), 'gov_survey_token', ['tenant_id'], unique=False)
    for table in TENANT_TABLES:
        enable_tenant_rls(op, table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(op, table)
    op.drop_index(op.f('ix_gov_survey_token_tenant_id'), table_name='gov_survey_token')
    op.drop_index(op.f('ix_gov_survey_token_batch_id'), table_name='gov_survey_token')
    op.drop_table('gov_survey_token')
    op.drop_index(op.f('ix_gov_token_batch_tenant_id'), table_name='gov_token_batch')
    op.drop_index(op.f('ix_gov_token_batch_cycle_id'), table_name='gov_token_batch')
    op.drop_table('gov_token_batch')
    op.drop_index(op.f('ix_gov_survey_response_tenant_id'), table_name='gov_survey_response')
    op.drop_index('ix_gov_survey_response_cycle', table_name='gov_survey_response')
    op.drop_table('gov_survey_response')
    op.drop_index(op.f('ix_gov_survey_quota_tenant_id'), table_name='gov_survey_quota')
    op.drop_table('gov_survey_quota')
    op.drop_index(op.f('ix_gov_survey_question_tenant_id'), table_name='gov_survey_question')
    op.drop_index(op.f('ix_gov_survey_question_cycle_id'), table_name='gov_survey_question')
    op.drop_table('gov_survey_question')
    op.drop_index(op.f('ix_gov_inspection_unit_id'), table_name='gov_inspection')
    op.drop_index(op.f('ix_gov_inspection_tenant_id'), table_name='gov_inspection')
    op.drop_index(op.f('ix_gov_inspection_day'), table_name='gov_inspection')
    op.drop_table('gov_inspection')
    op.drop_index(op.f('ix_gov_info_report_unit_id'), table_name='gov_info_report')
    op.drop_index(op.f('ix_gov_info_report_tenant_id'), table_name='gov_info_report')
    op.drop_index(op.f('ix_gov_info_report_day'), table_name='gov_info_report')
    op.drop_table('gov_info_report')
    op.drop_index(op.f('ix_gov_indicator_entry_tenant_id'), table_name='gov_indicator_entry')
    op.drop_index(op.f('ix_gov_indicator_entry_cycle_id'), table_name='gov_indicator_entry')
    op.drop_table('gov_indicator_entry')

"""sales-attitude: the event log, pay records and improvement plans

Revision ID: sales01
Revises: (the plugin's branch starts here, after the core's 0004)
"""
from alembic import op
import sqlalchemy as sa

from core.rls import disable_tenant_rls, enable_tenant_rls

revision = "sales01"
down_revision = None
branch_labels = ("sales_attitude",)
depends_on = "0004"

TENANT_TABLES = ("sales_event_import", "sales_event", "sales_pay", "sales_improvement_plan", "sales_plan_note")


def upgrade() -> None:
    op.create_table('sales_event_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('imported', sa.Integer(), nullable=False),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_sales_event_import_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_event_import')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_sales_event_import_tenant_id_id'))
    )
    op.create_index(op.f('ix_sales_event_import_tenant_id'), 'sales_event_import', ['tenant_id'], unique=False)
    op.create_table('sales_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('quantity', sa.String(length=8), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=80), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'import_id'], ['sales_event_import.tenant_id', 'sales_event_import.id'], name=op.f('fk_sales_event_tenant_id_sales_event_import')),
    sa.ForeignKeyConstraint(['tenant_id', 'person_id'], ['person.tenant_id', 'person.id'], name=op.f('fk_sales_event_tenant_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_sales_event_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_event')),
    sa.UniqueConstraint('tenant_id', 'person_id', 'dedupe_key', name=op.f('uq_sales_event_tenant_id_person_id_dedupe_key'))
    )
    op.create_index(op.f('ix_sales_event_day'), 'sales_event', ['day'], unique=False)
    op.create_index(op.f('ix_sales_event_person_id'), 'sales_event', ['person_id'], unique=False)
    op.create_index(op.f('ix_sales_event_tenant_id'), 'sales_event', ['tenant_id'], unique=False)
    op.create_table('sales_pay',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('base', sa.String(length=20), nullable=False),
    sa.Column('coefficient', sa.String(length=20), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'person_id'], ['person.tenant_id', 'person.id'], name=op.f('fk_sales_pay_tenant_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_sales_pay_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_pay')),
    sa.UniqueConstraint('tenant_id', 'person_id', name=op.f('uq_sales_pay_tenant_id_person_id'))
    )
    op.create_index(op.f('ix_sales_pay_tenant_id'), 'sales_pay', ['tenant_id'], unique=False)
    op.create_table('sales_improvement_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('listed_months', sa.JSON(), nullable=False),
    sa.Column('goals', sa.Text(), nullable=False),
    sa.Column('actions', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('start_month', sa.String(length=7), nullable=False),
    sa.Column('end_month', sa.String(length=7), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=True),
    sa.Column('decision', sa.String(length=20), nullable=True),
    sa.Column('evaluation', sa.Text(), nullable=True),
    sa.Column('evaluated_on', sa.Date(), nullable=True),
    sa.Column('evaluated_by', sa.String(length=120), nullable=True),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'owner_id'], ['user_account.tenant_id', 'user_account.id'], name=op.f('fk_sales_improvement_plan_tenant_id_user_account')),
    sa.ForeignKeyConstraint(['tenant_id', 'person_id'], ['person.tenant_id', 'person.id'], name=op.f('fk_sales_improvement_plan_tenant_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_sales_improvement_plan_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_improvement_plan')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_sales_improvement_plan_tenant_id_id'))
    )
    op.create_index(op.f('ix_sales_improvement_plan_person_id'), 'sales_improvement_plan', ['person_id'], unique=False)
    op.create_index(op.f('ix_sales_improvement_plan_tenant_id'), 'sales_improvement_plan', ['tenant_id'], unique=False)
    op.create_index('uq_sales_improvement_plan_open', 'sales_improvement_plan', ['tenant_id', 'person_id', 'kind'],
                    unique=True, sqlite_where=sa.text("state = 'open'"), postgresql_where=sa.text("state = 'open'"))
    op.create_table('sales_plan_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'plan_id'], ['sales_improvement_plan.tenant_id', 'sales_improvement_plan.id'], name=op.f('fk_sales_plan_note_tenant_id_sales_improvement_plan'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_sales_plan_note_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_plan_note'))
    )
    op.create_index(op.f('ix_sales_plan_note_plan_id'), 'sales_plan_note', ['plan_id'], unique=False)
    op.create_index(op.f('ix_sales_plan_note_tenant_id'), 'sales_plan_note', ['tenant_id'], unique=False)
    for table in TENANT_TABLES:
        enable_tenant_rls(op, table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(op, table)
    op.drop_index(op.f('ix_sales_plan_note_tenant_id'), table_name='sales_plan_note')
    op.drop_index(op.f('ix_sales_plan_note_plan_id'), table_name='sales_plan_note')
    op.drop_table('sales_plan_note')
    op.drop_index('uq_sales_improvement_plan_open', table_name='sales_improvement_plan')
    op.drop_index(op.f('ix_sales_improvement_plan_tenant_id'), table_name='sales_improvement_plan')
    op.drop_index(op.f('ix_sales_improvement_plan_person_id'), table_name='sales_improvement_plan')
    op.drop_table('sales_improvement_plan')
    op.drop_index(op.f('ix_sales_pay_tenant_id'), table_name='sales_pay')
    op.drop_table('sales_pay')
    op.drop_index(op.f('ix_sales_event_tenant_id'), table_name='sales_event')
    op.drop_index(op.f('ix_sales_event_person_id'), table_name='sales_event')
    op.drop_index(op.f('ix_sales_event_day'), table_name='sales_event')
    op.drop_table('sales_event')
    op.drop_index(op.f('ix_sales_event_import_tenant_id'), table_name='sales_event_import')
    op.drop_table('sales_event_import')

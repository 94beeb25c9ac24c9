"""inputs due date of a cycle

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 16:13:17.350891
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('inputs_due', sa.Date(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.drop_column('inputs_due')


"""corporate-grading: plans tables

Revision ID: corp02
Revises: corp01
"""
from alembic import op
import sqlalchemy as sa

from core.rls import disable_tenant_rls, enable_tenant_rls

revision = "corp02"
down_revision = "corp01"
branch_labels = None
depends_on = None

TENANT_TABLES: tuple[str, ...] = ()


def upgrade() -> None:
    for table in TENANT_TABLES:
        enable_tenant_rls(op, table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(op, table)

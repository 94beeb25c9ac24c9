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

TENANT_TABLES: tuple[str, ...] = ()


def upgrade() -> None:
    for table in TENANT_TABLES:
        enable_tenant_rls(op, table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(op, table)

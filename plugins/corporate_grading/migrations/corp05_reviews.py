"""corporate-grading: reviews tables

Revision ID: corp05
Revises: corp04
"""
from alembic import op
import sqlalchemy as sa

from core.rls import disable_tenant_rls, enable_tenant_rls

revision = "corp05"
down_revision = "corp04"
branch_labels = None
depends_on = None

TENANT_TABLES: tuple[str, ...] = ()


def upgrade() -> None:
    for table in TENANT_TABLES:
        enable_tenant_rls(op, table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(op, table)

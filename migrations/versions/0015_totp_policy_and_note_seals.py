"""two-factor required per school (issue 12)

A school may require TOTP of its direction and admin accounts.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 04:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('school') as batch:
        batch.add_column(sa.Column('require_totp', sa.Boolean(), server_default=sa.false(),
                                   nullable=False))


def downgrade():
    with op.batch_alter_table('school') as batch:
        batch.drop_column('require_totp')

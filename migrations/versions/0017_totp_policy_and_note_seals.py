"""two-factor required per school, sealed progress notes (issue 12)

A school may require TOTP of its direction and admin accounts; an issued progress note keeps
the journal's head it printed and an HMAC seal.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 04:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('school') as batch:
        batch.add_column(sa.Column('require_totp', sa.Boolean(), server_default=sa.false(),
                                   nullable=False))
    with op.batch_alter_table('progress_note') as batch:
        batch.add_column(sa.Column('journal_seq', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('journal_hash', sa.String(64), nullable=True))
        batch.add_column(sa.Column('seal', sa.String(64), nullable=True))


def downgrade():
    with op.batch_alter_table('progress_note') as batch:
        for column in ('seal', 'journal_hash', 'journal_seq'):
            batch.drop_column(column)
    with op.batch_alter_table('school') as batch:
        batch.drop_column('require_totp')

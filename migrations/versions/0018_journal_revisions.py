"""journal revisions: where the chain stood at each school's last change (the page cache's key)

One row per school whose records changed, plus scope 0 for the records no school owns; moved
with every journaled change, in its transaction. The upgrade starts the shared scope at the
journal's head when the chain has begun, so the cached pages of this database are named by its
own history from the start (a new instance stays empty: a backup restores only into one).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 06:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'journal_revision',
        sa.Column('scope', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('scope', name=op.f('pk_journal_revision')),
    )
    op.execute("INSERT INTO journal_revision (scope, hash) "
               "SELECT 0, hash FROM journal_head WHERE id = 1 AND seq > 0")


def downgrade():
    op.drop_table('journal_revision')

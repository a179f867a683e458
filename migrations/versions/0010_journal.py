"""journal (every change, login and download, hash-chained; its head, locked by each writer),
revocable sessions (user.session_token), the login brake (login_throttle) and the sign-off and dossier seals

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('journal_entry',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_email', sa.String(length=254), nullable=False),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('token_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('table_name', sa.String(length=80), nullable=False),
    sa.Column('record_id', sa.String(length=80), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_journal_entry'))
    )
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_journal_entry_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_journal_entry_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_journal_entry_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_journal_entry_school_id'), ['school_id'], unique=False)
        batch_op.create_index('ix_journal_entry_record', ['table_name', 'record_id'], unique=False)

    op.create_table('journal_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_head'))
    )
    op.bulk_insert(sa.table('journal_head', sa.column('id', sa.Integer()),
                            sa.column('seq', sa.Integer()), sa.column('hash', sa.String())),
                   [{'id': 1, 'seq': 0, 'hash': '0' * 64}])

    op.create_table('login_throttle',
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttle'))
    )
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
    with op.batch_alter_table('readiness_sign_off', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seal', sa.String(length=64), nullable=True))
    with op.batch_alter_table('dossier_build', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seal', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('dossier_build', schema=None) as batch_op:
        batch_op.drop_column('seal')
    with op.batch_alter_table('readiness_sign_off', schema=None) as batch_op:
        batch_op.drop_column('seal')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_token')
    op.drop_table('login_throttle')
    op.drop_table('journal_head')
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_entry_record')
        batch_op.drop_index(batch_op.f('ix_journal_entry_school_id'))
        batch_op.drop_index(batch_op.f('ix_journal_entry_kind'))
        batch_op.drop_index(batch_op.f('ix_journal_entry_at'))
        batch_op.drop_index(batch_op.f('ix_journal_entry_actor_id'))
    op.drop_table('journal_entry')

"""claims and four-eyes: a link proof → criterion is confirmed or waits for a reviewer; the
school may forbid deciding on what one submitted

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('evidence_link', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.Enum('confirme', 'a_confirmer', 'refuse', name='claimstatus', native_enum=False, length=40), server_default='confirme', nullable=False))
        batch_op.add_column(sa.Column('confirmed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('refusal_reason', sa.String(length=2000), server_default='', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_evidence_link_confirmed_by_id_user'), 'user', ['confirmed_by_id'], ['id'])
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.add_column(sa.Column('four_eyes', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.drop_column('four_eyes')
    with op.batch_alter_table('evidence_link', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_evidence_link_confirmed_by_id_user'), type_='foreignkey')
        batch_op.drop_column('refusal_reason')
        batch_op.drop_column('confirmed_at')
        batch_op.drop_column('confirmed_by_id')
        batch_op.drop_column('status')

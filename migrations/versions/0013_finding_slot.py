"""a finding of the report recorded against its programme slot (issue 16)

Deleting a slot sets its findings' slot to null first (``programme.delete_slot``).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 02:25:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite adds a reference only inline, in the column's own definition.
        op.execute('ALTER TABLE finding ADD COLUMN slot_id INTEGER '
                   'CONSTRAINT fk_finding_slot_id_audit_slot REFERENCES audit_slot (id)')
    else:
        op.add_column('finding', sa.Column('slot_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_finding_slot_id_audit_slot'), 'finding', 'audit_slot',
                              ['slot_id'], ['id'])


def downgrade():
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_finding_slot_id_audit_slot'), type_='foreignkey')
        batch_op.drop_column('slot_id')

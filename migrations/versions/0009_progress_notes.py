"""progress notes: the monthly « Point d'avancement », its frozen parts, files and hash

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 01:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('progress_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('brouillon', 'emise', name='notestatus', native_enum=False, length=40), nullable=False),
    sa.Column('governance_text', sa.Text(), nullable=False),
    sa.Column('financing', sa.Text(), nullable=False),
    sa.Column('partnerships', sa.Text(), nullable=False),
    sa.Column('pedagogy', sa.Text(), nullable=False),
    sa.Column('cofunding', sa.String(length=500), nullable=False),
    sa.Column('computed', sa.JSON(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pdf_key', sa.String(length=80), nullable=True),
    sa.Column('pdf_size', sa.BigInteger(), nullable=True),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=True),
    sa.Column('docx_key', sa.String(length=80), nullable=True),
    sa.Column('docx_size', sa.BigInteger(), nullable=True),
    sa.Column('docx_sha256', sa.String(length=64), nullable=True),
    sa.Column('evidence_id', sa.Integer(), nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_progress_note_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_progress_note_created_by_id_user')),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_progress_note_evidence_id_evidence')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['user.id'], name=op.f('fk_progress_note_issued_by_id_user')),
    sa.ForeignKeyConstraint(['replaces_id'], ['progress_note.id'], name=op.f('fk_progress_note_replaces_id_progress_note')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_progress_note_updated_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_progress_note')),
    sa.UniqueConstraint('docx_key', name=op.f('uq_progress_note_docx_key')),
    sa.UniqueConstraint('pdf_key', name=op.f('uq_progress_note_pdf_key'))
    )
    with op.batch_alter_table('progress_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_progress_note_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_progress_note_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('progress_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_progress_note_status'))
        batch_op.drop_index(batch_op.f('ix_progress_note_campaign_id'))

    op.drop_table('progress_note')

"""dossier builds: each generated dossier with its options, author, size and SHA-256

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 09:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dossier_build',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='buildstatus', native_enum=False, length=40), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=200), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('runner', sa.String(length=200), nullable=False),
    sa.Column('pdf_key', sa.String(length=80), nullable=True),
    sa.Column('zip_key', sa.String(length=80), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('zip_size', sa.BigInteger(), nullable=True),
    sa.Column('zip_sha256', sa.String(length=64), nullable=True),
    sa.Column('page_count', sa.Integer(), nullable=True),
    sa.Column('piece_count', sa.Integer(), nullable=True),
    sa.CheckConstraint('progress >= 0 AND progress <= 100', name=op.f('ck_dossier_build_progress_in_range')),
    sa.CheckConstraint("(status = 'done') = (pdf_key IS NOT NULL)", name=op.f('ck_dossier_build_pdf_iff_done')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_dossier_build_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_dossier_build_created_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dossier_build')),
    sa.UniqueConstraint('pdf_key', name=op.f('uq_dossier_build_pdf_key')),
    sa.UniqueConstraint('zip_key', name=op.f('uq_dossier_build_zip_key'))
    )
    with op.batch_alter_table('dossier_build', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_build_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossier_build_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('dossier_build', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossier_build_status'))
        batch_op.drop_index(batch_op.f('ix_dossier_build_campaign_id'))

    op.drop_table('dossier_build')

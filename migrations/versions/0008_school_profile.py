"""school profile: the school's presentation for the dossier (legal entity, governance,
funders, partners, co-funding mention, staff, organigramme), each site's address, capacity
and staff, the school's answer to each finding, the frameworks' self-assessment scales and
each criterion's self-assessed level

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('school_profile',
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('legal_name', sa.String(length=200), nullable=False),
    sa.Column('legal_form', sa.String(length=120), nullable=False),
    sa.Column('head_office', sa.String(length=300), nullable=False),
    sa.Column('governance', sa.Text(), nullable=False),
    sa.Column('funders', sa.Text(), nullable=False),
    sa.Column('partners', sa.Text(), nullable=False),
    sa.Column('cofunding_statement', sa.Text(), nullable=False),
    sa.Column('staff_fte', sa.Numeric(precision=6, scale=1), nullable=True),
    sa.Column('organigramme_evidence_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.CheckConstraint('staff_fte >= 0', name=op.f('ck_school_profile_profile_staff_fte_positive')),
    sa.ForeignKeyConstraint(['organigramme_evidence_id'], ['evidence.id'], name=op.f('fk_school_profile_organigramme_evidence_id_evidence'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_school_profile_school_id_school'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_school_profile_updated_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('school_id', name=op.f('pk_school_profile'))
    )
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('capacity', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('staff_fte', sa.Numeric(precision=6, scale=1), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_site_capacity_positive'), 'capacity >= 0')
        batch_op.create_check_constraint(batch_op.f('ck_site_staff_fte_positive'), 'staff_fte >= 0')
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.add_column(sa.Column('response', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.alter_column('response', server_default=None)
    with op.batch_alter_table('framework', schema=None) as batch_op:
        batch_op.add_column(sa.Column('self_assessment_scale', sa.JSON(), nullable=False,
                                      server_default='[]'))
    with op.batch_alter_table('framework', schema=None) as batch_op:
        batch_op.alter_column('self_assessment_scale', server_default=None)
    with op.batch_alter_table('campaign_criterion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('self_assessment', sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table('campaign_criterion', schema=None) as batch_op:
        batch_op.drop_column('self_assessment')
    with op.batch_alter_table('framework', schema=None) as batch_op:
        batch_op.drop_column('self_assessment_scale')
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.drop_column('response')

    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_site_staff_fte_positive'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_site_capacity_positive'), type_='check')
        batch_op.drop_column('staff_fte')
        batch_op.drop_column('capacity')
        batch_op.drop_column('address')

    op.drop_table('school_profile')

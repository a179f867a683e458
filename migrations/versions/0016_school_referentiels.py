"""the référentiels a school follows (issue 17)

A school names the référentiels it follows by their code; its new campaigns are proposed on the
latest version of each. Existing schools follow the référentiels their campaigns use, or every
référentiel of the instance when they have no campaign yet.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 04:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'school_referentiel',
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(60), nullable=False),
        sa.ForeignKeyConstraint(['school_id'], ['school.id'],
                                name='fk_school_referentiel_school_id_school',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('school_id', 'code', name='pk_school_referentiel'),
    )
    connection = op.get_bind()
    used = connection.execute(sa.text(
        "SELECT DISTINCT campaign.school_id, framework.code FROM campaign "
        "JOIN campaign_framework ON campaign_framework.campaign_id = campaign.id "
        "JOIN framework ON framework.id = campaign_framework.framework_id")).all()
    every_code = [code for (code,) in connection.execute(sa.text(
        "SELECT DISTINCT code FROM framework ORDER BY code"))]
    schools = [school_id for (school_id,) in connection.execute(sa.text("SELECT id FROM school"))]
    followed: dict[int, set[str]] = {school_id: set() for school_id in schools}
    for school_id, code in used:
        followed[school_id].add(code)
    rows = [{'school_id': school_id, 'code': code}
            for school_id, codes in followed.items()
            for code in sorted(codes or every_code)]
    if rows:
        table = sa.table('school_referentiel', sa.column('school_id', sa.Integer),
                         sa.column('code', sa.String))
        op.bulk_insert(table, rows)


def downgrade():
    op.drop_table('school_referentiel')

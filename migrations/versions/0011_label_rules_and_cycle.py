"""label rules and cycle, and the audit day: the scale's rules as data, the report's notification date, the
certifier's delay for an action plan, a campaign's certifying flag and its previous campaign, a
decision's conditions and a milestone's assumed date; an audit's programme slots and samples

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 01:00:00.000000

"""
from pathlib import Path

import sqlalchemy as sa
import yaml
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

SHIPPED = Path(__file__).resolve().parents[2] / "audit_tracker" / "referentiel" / "data"


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def upgrade():
    # Plain ADD COLUMN, no batch: on SQLite a batch would copy and drop tables that others
    # reference (campaign, milestone, framework), which the foreign keys refuse. The server
    # defaults stay, for the rows that exist already.
    op.add_column('framework', sa.Column('rules', sa.JSON(), nullable=False,
                                         server_default='{}'))
    op.add_column('finding_type', sa.Column('plan_days', sa.Integer(), nullable=True))
    op.add_column('campaign', sa.Column('certifying', sa.Boolean(), nullable=False,
                                        server_default=sa.true()))
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite adds a reference only inline, in the column's own definition.
        op.execute('ALTER TABLE campaign ADD COLUMN previous_id INTEGER '
                   'CONSTRAINT fk_campaign_previous_id_campaign REFERENCES campaign (id)')
    else:
        op.add_column('campaign', sa.Column('previous_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_campaign_previous_id_campaign'), 'campaign', 'campaign',
                              ['previous_id'], ['id'])
    op.add_column('milestone', sa.Column('report_notified_on', sa.Date(), nullable=True))
    op.add_column('milestone', sa.Column('conditions', sa.Text(), nullable=False,
                                         server_default=''))
    op.add_column('milestone', sa.Column('assumed', sa.Boolean(), nullable=False,
                                         server_default=sa.false()))
    op.create_table('audit_slot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('milestone_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('starts_at', sa.Time(), nullable=False),
    sa.Column('ends_at', sa.Time(), nullable=True),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('topic', sa.String(length=300), nullable=False),
    sa.Column('criteria', sa.String(length=300), nullable=False),
    sa.Column('people', sa.Text(), nullable=False),
    sa.Column('auditor', sa.String(length=200), nullable=False),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.CheckConstraint('ends_at IS NULL OR ends_at > starts_at', name=op.f('ck_audit_slot_ends_after_start')),
    sa.ForeignKeyConstraint(['milestone_id'], ['milestone.id'], name=op.f('fk_audit_slot_milestone_id_milestone'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_audit_slot_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_slot'))
    )
    with op.batch_alter_table('audit_slot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_slot_milestone_id'), ['milestone_id'], unique=False)
    op.create_table('audit_sample',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('milestone_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('entered_on', sa.Date(), nullable=True),
    sa.Column('qpv', sa.Boolean(), nullable=True),
    sa.Column('diploma_level', sa.String(length=40), nullable=False),
    sa.Column('exit_kind', sa.String(length=100), nullable=False),
    sa.Column('exited_on', sa.Date(), nullable=True),
    sa.Column('prepared_by_id', sa.Integer(), nullable=True),
    sa.Column('ready', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['milestone_id'], ['milestone.id'], name=op.f('fk_audit_sample_milestone_id_milestone'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['prepared_by_id'], ['user.id'], name=op.f('fk_audit_sample_prepared_by_id_user')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_audit_sample_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_sample')),
    sa.UniqueConstraint('milestone_id', 'reference', name=op.f('uq_audit_sample_milestone_id_reference'))
    )
    with op.batch_alter_table('audit_sample', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_sample_milestone_id'), ['milestone_id'], unique=False)
    _fill_shipped_rules()


def _fill_shipped_rules():
    """The shipped frameworks already imported get the rules their file now carries."""
    connection = op.get_bind()
    framework = sa.table('framework', sa.column('id', sa.Integer), sa.column('code', sa.String),
                         sa.column('version', sa.String), sa.column('rules', sa.JSON))
    finding_type = sa.table('finding_type', sa.column('framework_id', sa.Integer),
                            sa.column('code', sa.String), sa.column('plan_days', sa.Integer),
                            sa.column('rule', sa.Text))
    for path in sorted(SHIPPED.glob('*.yaml')):
        data = yaml.safe_load(path.read_text(encoding='utf-8'))
        rows = connection.execute(sa.select(framework.c.id).where(
            framework.c.code == data['code'], framework.c.version == str(data['version']))).all()
        for (framework_id,) in rows:
            connection.execute(framework.update().where(framework.c.id == framework_id)
                               .values(rules=_plain(data.get('rules') or {})))
            for item in data.get('finding_scale') or []:
                deadline = item.get('deadline') or {}
                connection.execute(finding_type.update().where(
                    finding_type.c.framework_id == framework_id,
                    finding_type.c.code == item['code'],
                ).values(plan_days=deadline.get('plan_days'), rule=deadline.get('rule', '')))


def downgrade():
    op.drop_table('audit_sample')
    op.drop_table('audit_slot')
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.drop_column('assumed')
        batch_op.drop_column('conditions')
        batch_op.drop_column('report_notified_on')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_campaign_previous_id_campaign'),
                                 type_='foreignkey')
        batch_op.drop_column('previous_id')
        batch_op.drop_column('certifying')
    with op.batch_alter_table('finding_type', schema=None) as batch_op:
        batch_op.drop_column('plan_days')
    with op.batch_alter_table('framework', schema=None) as batch_op:
        batch_op.drop_column('rules')

"""auditor access that ends, password links, API tokens that expire (issue 12)

An invited auditor reads one campaign between two dates; an invitation or a reset is a one-use
link whose hash alone is stored; an API token may carry an expiry; direction and admin may add a TOTP second factor.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 02:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user') as batch:
        batch.add_column(sa.Column('access_campaign_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('access_starts_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('access_ends_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('password_link_hash', sa.String(64), nullable=True))
        batch.add_column(sa.Column('password_link_expires_at', sa.DateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column('totp_secret', sa.String(64), nullable=True))
        batch.create_foreign_key('fk_user_access_campaign_id_campaign', 'campaign',
                                 ['access_campaign_id'], ['id'], ondelete='CASCADE')
        batch.create_index('ix_user_access_campaign_id', ['access_campaign_id'])
        batch.create_unique_constraint('uq_user_password_link_hash', ['password_link_hash'])
    with op.batch_alter_table('api_token') as batch:
        batch.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('api_token') as batch:
        batch.drop_column('expires_at')
    with op.batch_alter_table('user') as batch:
        batch.drop_constraint('uq_user_password_link_hash', type_='unique')
        batch.drop_index('ix_user_access_campaign_id')
        batch.drop_constraint('fk_user_access_campaign_id_campaign', type_='foreignkey')
        for column in ('totp_secret', 'password_link_expires_at', 'password_link_hash', 'access_ends_on',
                       'access_starts_on', 'access_campaign_id'):
            batch.drop_column(column)

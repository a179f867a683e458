"""calendar feed tokens: the column now holds a seed, the URL an HMAC of it (issue 12)

Until now ``user.calendar_token`` was the feed URL's secret itself, readable by anyone with a
copy of the database. It becomes a random seed from which the URL's token is derived with the
application's secret key (``findings.calendar.feed_token``). Every existing seed is replaced,
so the URLs that were stored in clear stop working: their owners copy the new link from
« Mon agenda ».

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 02:00:00.000000

"""
import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

_USER = sa.table('user', sa.column('id', sa.Integer), sa.column('calendar_token', sa.String))


def _reseed():
    bind = op.get_bind()
    ids = bind.execute(sa.select(_USER.c.id).where(_USER.c.calendar_token.is_not(None))).scalars()
    for user_id in list(ids):
        bind.execute(_USER.update().where(_USER.c.id == user_id)
                     .values(calendar_token=secrets.token_urlsafe(32)))


def upgrade():
    _reseed()


def downgrade():
    # The old clear tokens are gone for good; new random ones keep the column's meaning valid.
    _reseed()

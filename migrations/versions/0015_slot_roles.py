"""the people met at a programme slot by the school's roles, structured (issue 16)

A slot's people met were one free text (« Direction, responsable qualité »), matched word by word
to decide whose calendar feed it reached. The school's roles become a list (``audit_slot.roles``);
the free text keeps the others met (partners, trainers, learners). Existing texts are split at
their commas and semicolons: a part that names one of the school's roles moves to the list, any
other part stays as it was written.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 04:00:00.000000

"""
import re
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

# The roles' stored values (models.SLOT_ROLES), frozen here: a migration never imports the
# models it migrates. A part of the text names a role when it is one of these, once folded.
ROLE_NAMES = {
    'direction': ('direction', 'directeur', 'directrice', 'la direction', 'equipe de direction'),
    'qualite': ('responsable qualite', 'responsables qualite', 'qualite',
                'referent qualite', 'referente qualite'),
    'site': ('responsable de site', 'responsables de site', 'responsable du site',
             'responsables des sites', 'responsable site', 'responsables de sites'),
    'referent': ('referent reseau', 'referente reseau', 'referent du reseau'),
}
ORDER = ('direction', 'qualite', 'site', 'referent')
# English labels, for a text written with the English interface.
ENGLISH = {'director': 'direction', 'management': 'direction', 'quality lead': 'qualite',
           'quality manager': 'qualite', 'site manager': 'site', 'site managers': 'site',
           'network referent': 'referent'}


def _folded(text):
    plain = unicodedata.normalize('NFKD', text).encode('ascii', 'ignore').decode()
    return ' '.join(re.sub(r'[^a-z0-9]+', ' ', plain.lower()).split())


def split_people(text):
    """(roles, others) of one stored text: the school's roles named, and the rest as written."""
    by_name = {name: role for role, names in ROLE_NAMES.items() for name in names} | ENGLISH
    roles, others = set(), []
    for part in re.split(r'[,;\n]+|\s+et\s+', text or ''):
        if not part.strip():
            continue
        role = by_name.get(_folded(part))
        if role is None:
            others.append(part.strip())
        else:
            roles.add(role)
    return [r for r in ORDER if r in roles], ', '.join(others)


def upgrade():
    # Plain ADD COLUMN: a batch would copy the table that findings reference.
    op.add_column('audit_slot', sa.Column('roles', sa.JSON(), nullable=False,
                                          server_default='[]'))
    slot = sa.table('audit_slot', sa.column('id', sa.Integer), sa.column('people', sa.Text),
                    sa.column('roles', sa.JSON))
    connection = op.get_bind()
    for slot_id, people in connection.execute(sa.select(slot.c.id, slot.c.people)).all():
        roles, others = split_people(people)
        if roles:
            connection.execute(slot.update().where(slot.c.id == slot_id)
                               .values(roles=roles, people=others))


def downgrade():
    # The roles go back into the text, as their French labels, before the column goes.
    labels = {'direction': 'Direction', 'qualite': 'Responsable qualité',
              'site': 'Responsable de site', 'referent': 'Référent réseau'}
    slot = sa.table('audit_slot', sa.column('id', sa.Integer), sa.column('people', sa.Text),
                    sa.column('roles', sa.JSON))
    connection = op.get_bind()
    rows = connection.execute(sa.select(slot.c.id, slot.c.people, slot.c.roles)).all()
    for slot_id, people, roles in rows:
        if roles:
            text = ', '.join([labels[r] for r in ORDER if r in roles]
                             + ([people] if (people or '').strip() else []))
            connection.execute(slot.update().where(slot.c.id == slot_id).values(people=text))
    op.drop_column('audit_slot', 'roles')  # SQLite 3.35+ drops a column in place

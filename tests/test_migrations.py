"""Migrations: one head, and upgrading an empty database gives exactly the models' schema."""

from __future__ import annotations

from datetime import date, datetime, time

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from audit_tracker.database import include_in_migrations
from audit_tracker.extensions import db


def test_migrations_have_a_single_head(app):
    config = app.extensions["migrate"].migrate.get_config()
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_upgrade_on_an_empty_database_equals_the_models(app):
    db.drop_all()  # the fixture made the tables from the models; start from nothing instead
    upgrade()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": include_in_migrations})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_0015_moves_the_school_roles_named_in_the_people_met_to_the_ticked_roles():
    """What the programme's prefill and users wrote before: roles out, the rest as written."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "migrations" / "versions" / "0015_slot_roles.py"
    spec = importlib.util.spec_from_file_location("migration_0015", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    split = migration.split_people
    assert split("Direction, responsable qualité") == (["direction", "qualite"], "")
    assert split("Responsable de site, formateurs, stagiaires") == (
        ["site"], "formateurs, stagiaires")
    assert split("Directrice ; Responsable Qualité et partenaires") == (
        ["direction", "qualite"], "partenaires")
    assert split("Référent réseau") == (["referent"], "")
    # A person named, or a role of another body, stays text: nothing guessed.
    assert split("Responsable du site CAVEM ; formateurs") == (
        [], "Responsable du site CAVEM, formateurs")
    assert split("Directeur de la mission locale") == ([], "Directeur de la mission locale")
    assert split("") == ([], "")


def test_0015_upgrades_the_slots_already_written(app):
    """A programme typed before 0015: its school roles become ticked, its others stay text."""
    import sqlalchemy as sa

    db.drop_all()
    upgrade(revision="0014")

    def table(name: str, *columns: str) -> sa.TableClause:
        return sa.table(name, *(sa.column(c) for c in columns))

    day = date(2018, 4, 24)
    with db.engine.begin() as connection:  # rows as 0014 knew them: later models have more
        connection.execute(table("school", "id", "name", "short_name", "four_eyes",
                                 "created_at").insert().values(
            id=1, name="E2C Var", short_name="E2C Var", four_eyes=False,
            created_at=datetime(2018, 1, 1)))
        campaign = sa.table("campaign", *(sa.column(c) for c in (
            "id", "school_id", "name", "description", "certifying", "created_at")),
            sa.column("categories", sa.JSON))
        connection.execute(campaign.insert().values(
            id=1, school_id=1, name="Labellisation", description="", categories=[],
            certifying=True, created_at=datetime(2018, 1, 1)))
        connection.execute(table("milestone", "id", "campaign_id", "kind", "title", "starts_on",
                                 "place", "notes", "assumed").insert().values(
            id=1, campaign_id=1, kind="audit_initial", title="Audit", starts_on=day, place="",
            notes="", assumed=False))
    slot = sa.table("audit_slot", *(sa.column(name) for name in (
        "id", "milestone_id", "day", "place", "topic", "criteria", "people", "auditor")),
        sa.column("starts_at", sa.Time), sa.column("checklist", sa.JSON))
    rows = {1: "Direction, responsable qualité", 2: "Responsable de site, formateurs, stagiaires",
            3: "Mme Durand (mission locale)"}
    with db.engine.begin() as connection:
        for slot_id, people in rows.items():
            connection.execute(slot.insert().values(
                id=slot_id, milestone_id=1, day=day,
                starts_at=time(9), place="", topic=f"Créneau {slot_id}", criteria="",
                people=people, auditor="", checklist={}))
    db.session.remove()
    upgrade()
    from audit_tracker.models import AuditSlot

    got = {s.id: (s.roles, s.people) for s in db.session.scalars(sa.select(AuditSlot))}
    assert got == {1: (["direction", "qualite"], ""),
                   2: (["site"], "formateurs, stagiaires"),
                   3: ([], "Mme Durand (mission locale)")}


def test_0016_existing_schools_follow_their_campaigns_referentiels_or_all(app):
    """A school with campaigns follows the référentiels they use; one without, every one."""
    import sqlalchemy as sa
    from flask_migrate import downgrade

    db.drop_all()
    upgrade(revision="0015")
    tables = db.metadata.tables
    with db.engine.begin() as connection:
        school = sa.table("school", *(sa.column(c) for c in (  # as 0015 knew it
            "id", "name", "short_name", "four_eyes", "created_at")))
        connection.execute(school.insert(), [
            {"id": 1, "name": "E2C Var", "short_name": "E2C Var", "four_eyes": False,
             "created_at": datetime(2018, 1, 1)},
            {"id": 2, "name": "E2C Gard", "short_name": "E2C Gard", "four_eyes": False,
             "created_at": datetime(2018, 1, 1)}])
        connection.execute(tables["framework"].insert(), [
            {"id": 1, "code": "e2c-label", "version": "1", "name": "Label E2C"},
            {"id": 2, "code": "qualiopi-v9", "version": "9", "name": "Qualiopi"},
            {"id": 3, "code": "qualiopi-v9", "version": "9.1", "name": "Qualiopi"}])
        connection.execute(tables["campaign"].insert(), [
            {"id": 1, "school_id": 1, "name": "Certification Qualiopi"}])
        connection.execute(tables["campaign_framework"].insert(), [
            {"campaign_id": 1, "framework_id": 2}])
    upgrade()
    with db.engine.connect() as connection:
        rows = connection.execute(tables["school_referentiel"].select().order_by(
            "school_id", "code")).all()
    assert [tuple(row) for row in rows] == [
        (1, "qualiopi-v9"), (2, "e2c-label"), (2, "qualiopi-v9")]
    downgrade(revision="0015")
    upgrade()

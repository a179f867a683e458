"""Migrations: one head, and upgrading an empty database gives exactly the models' schema."""

from __future__ import annotations

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


def test_0016_existing_schools_follow_their_campaigns_referentiels_or_all(app):
    """A school with campaigns follows the référentiels they use; one without, every one."""
    from flask_migrate import downgrade

    db.drop_all()
    upgrade(revision="0015")
    tables = db.metadata.tables
    with db.engine.begin() as connection:
        connection.execute(tables["school"].insert(), [
            {"id": 1, "name": "E2C Var", "short_name": "E2C Var"},
            {"id": 2, "name": "E2C Gard", "short_name": "E2C Gard"}])
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

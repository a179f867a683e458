"""The journal: every change in its own transaction, who and from where, hash-chained, verified.

Runs on SQLite and, with ``AUDIT_TRACKER_TEST_POSTGRES_URL``, on PostgreSQL (the ``app``
fixture), including concurrent writers serialised by the head's lock.
"""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import delete, func, select, text, update

from audit_tracker.extensions import db
from audit_tracker.journal import chain
from audit_tracker.journal.context import COMMAND, Actor, use_actor
from audit_tracker.models import JournalEntry, JournalHead, Role, School

from . import factories


def _entries(**where):
    query = select(JournalEntry).order_by(JournalEntry.seq)
    for key, value in where.items():
        query = query.where(getattr(JournalEntry, key) == value)
    return list(db.session.scalars(query))


def _verify(runner):
    return runner.invoke(args=["journal", "verify"])


def test_a_change_is_journaled_with_its_fields_before_and_after(app):
    school = School(name="E2C Var", short_name="e2c-var")
    db.session.add(school)
    db.session.commit()
    created = _entries(table_name="school", record_id=str(school.id))
    assert [e.kind for e in created] == ["create"]
    assert json.loads(created[0].detail)["fields"]["name"] == [None, "E2C Var"]
    assert created[0].origin == COMMAND and created[0].actor_id is None

    with use_actor(Actor(user_id=7, email="qualite@example.org", school_id=school.id)):
        school.name = "E2C du Var"
        db.session.commit()
    updated = _entries(table_name="school", kind="update")
    assert len(updated) == 1
    assert json.loads(updated[0].detail) == {"fields": {"name": ["E2C Var", "E2C du Var"]}}
    assert (updated[0].actor_id, updated[0].actor_email) == (7, "qualite@example.org")

    db.session.delete(school)
    db.session.commit()
    deleted = _entries(table_name="school", kind="delete")
    assert json.loads(deleted[0].detail)["fields"]["name"] == ["E2C du Var", None]


def test_a_change_and_its_entry_commit_or_roll_back_together(app):
    db.session.add(School(name="Annulée", short_name="annulee"))
    db.session.flush()
    assert len(_entries(table_name="school")) == 1  # written by the flush, same transaction
    db.session.rollback()
    assert _entries() == []
    assert db.session.scalar(select(func.count()).select_from(School)) == 0
    head = db.session.get(JournalHead, chain.HEAD_ID)
    assert head is None or head.seq == 0

    db.session.add(School(name="Gardée", short_name="gardee"))
    db.session.commit()
    assert [e.seq for e in _entries()] == [1]
    assert db.session.get(JournalHead, chain.HEAD_ID).seq == 1


def test_secrets_are_never_copied_into_the_journal(app, school):
    user = factories.UserFactory(role=Role.QUALITY_LEAD, school=school)
    db.session.commit()
    entries = _entries(table_name="user", record_id=str(user.id))
    masked = [json.loads(e.detail)["fields"].get("password_hash") for e in entries]
    assert [None, "masqué"] in masked
    assert not any(user.password_hash in e.detail for e in entries)


def test_many_to_many_links_are_journaled_as_ids(app, referentiels, school):
    campaign = factories.CampaignFactory(school=school)
    db.session.commit()
    from audit_tracker.models import Framework

    frameworks = list(db.session.scalars(select(Framework).order_by(Framework.id)))
    framework_ids = [f.id for f in frameworks]
    campaign.frameworks = frameworks
    db.session.commit()
    entry = _entries(table_name="campaign", kind="update")[-1]
    assert json.loads(entry.detail)["fields"]["frameworks"] == [[], framework_ids]


# --- verify: the chain broken three ways, each found ---------------------------------------

def _three_schools():
    for n in range(3):
        db.session.add(School(name=f"École {n}", short_name=f"ecole-{n}"))
        db.session.commit()


def test_verify_passes_on_an_intact_chain(app, runner):
    _three_schools()
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert "Journal intègre : 3 entrées" in result.output


def test_verify_finds_an_altered_entry(app, runner):
    _three_schools()
    db.session.execute(update(JournalEntry).where(JournalEntry.seq == 2)
                       .values(detail='{"fields":{"name":[null,"Autre"]}}'))
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert "entrée 2 : contenu modifié" in result.output


def test_verify_finds_a_deleted_entry(app, runner):
    _three_schools()
    db.session.execute(delete(JournalEntry).where(JournalEntry.seq == 2))
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert "entrée 3 : position attendue 2" in result.output


def test_verify_finds_a_deleted_last_entry(app, runner):
    _three_schools()
    db.session.execute(delete(JournalEntry).where(JournalEntry.seq == 3))
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert "la tête du journal (3) ne correspond pas à la dernière entrée (2)" in result.output


def test_verify_finds_an_inserted_entry(app, runner):
    """A forger who chains the entry correctly at the end still leaves the head behind; one
    slipped in the middle breaks the next link."""
    _three_schools()
    last = _entries()[-1]
    forged = {"seq": 4, "at": last.at, "kind": "delete", "actor_id": None, "actor_email": "",
              "origin": "command", "token_id": None, "address": "", "school_id": None,
              "table_name": "school", "record_id": "1", "detail": "{}", "prev_hash": last.hash}
    forged["hash"] = chain.entry_hash(last.hash, chain.content(forged))
    db.session.execute(chain.ENTRY.insert().values(forged))
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert "tête du journal (3)" in result.output


def test_verify_finds_an_entry_inserted_in_the_middle(app, runner):
    _three_schools()
    db.session.execute(update(JournalEntry).where(JournalEntry.seq == 3).values(seq=4))
    first = _entries()[0]
    forged = {"seq": 3, "at": first.at, "kind": "login", "actor_id": 1, "actor_email": "x@y.z",
              "origin": "page", "token_id": None, "address": "", "school_id": None,
              "table_name": "", "record_id": "", "detail": "{}",
              "prev_hash": _entries()[1].hash}
    forged["hash"] = chain.entry_hash(forged["prev_hash"], chain.content(forged))
    db.session.execute(chain.ENTRY.insert().values(forged))
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert "entrée 4 : position attendue 4" not in result.output
    assert "entrée 4 : contenu modifié" in result.output or "chaînage rompu" in result.output


def test_concurrent_writers_keep_one_chain(app, runner):
    """Four threads, each with its own session and connection, commit twenty changes: the
    head's lock orders them, so the chain has no fork and no gap."""
    errors: list[BaseException] = []

    def work(n: int) -> None:
        with app.app_context():
            try:
                for i in range(5):
                    db.session.add(School(name=f"É{n}-{i}", short_name=f"e-{n}-{i}"))
                    db.session.commit()
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert [e.seq for e in _entries()] == list(range(1, 21))
    result = _verify(runner)
    assert result.exit_code == 0, result.output


# --- from the pages and the API -------------------------------------------------------------

def test_logins_refused_and_accepted_are_journaled(app, client, auth, make_user):
    user = make_user(Role.QUALITY_LEAD)
    auth.login(user.email, "mauvais-mot-de-passe")
    auth.login(user.email)
    kinds = [(e.kind, e.actor_id) for e in _entries() if e.kind.startswith("login")]
    assert kinds == [("login_failed", None), ("login", user.id)]
    failed = _entries(kind="login_failed")[0]
    assert json.loads(failed.detail) == {"email": user.email}
    assert failed.origin == "page" and failed.address == "127.0.0.1"


def test_a_page_edit_names_its_author_and_a_download_is_journaled(
        app, client, auth, make_user, make_evidence):
    user = make_user(Role.QUALITY_LEAD)
    evidence = make_evidence(user)
    auth.login(user)
    response = client.post(f"/preuves/{evidence.id}/modifier", data={
        "title": "Livret d’accueil 2018", "description": "", "site_id": "0",
        "lock_version": evidence.lock_version})
    assert response.status_code == 302
    edits = [e for e in _entries(table_name="evidence", kind="update") if e.actor_id]
    assert edits and edits[-1].origin == "page" and edits[-1].actor_email == user.email
    assert json.loads(edits[-1].detail)["fields"]["title"][1] == "Livret d’accueil 2018"

    assert client.get(f"/preuves/{evidence.id}/versions/1/fichier").status_code == 200
    download = _entries(kind="download")[-1]
    assert (download.table_name, download.actor_id) == ("evidence_version", user.id)
    assert json.loads(download.detail)["file"] == "preuve.pdf"

    page = client.get(f"/preuves/{evidence.id}/historique").get_data(as_text=True)
    assert "Livret d’accueil 2018" in page and user.email in page


def test_an_api_change_names_its_token(app, client, make_user, token_for, school, referentiels):
    from audit_tracker.models import Framework

    user = make_user(Role.QUALITY_LEAD)
    headers = token_for(user)
    framework = db.session.scalar(select(Framework).where(Framework.code == "qualiopi-v9"))
    campaign = factories.CampaignFactory(school=school, frameworks=[framework])
    db.session.commit()
    from audit_tracker.models import ApiToken

    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    milestone = factories.MilestoneFactory(campaign=campaign)
    db.session.commit()
    response = client.post("/api/v1/findings", headers=headers, json={
        "event_id": milestone.id, "type": "nc_mineure", "title": "Constat API",
        "framework": "qualiopi-v9"})
    assert response.status_code == 201, response.get_json()
    created = _entries(table_name="finding", kind="create")[-1]
    assert (created.origin, created.token_id, created.actor_id) == ("api", token.id, user.id)


def test_the_journal_page_filters_and_exports(app, client, auth, make_user):
    director = make_user(Role.DIRECTOR)
    other = make_user(Role.QUALITY_LEAD)
    auth.login(other, "faux")
    auth.login(director)
    page = client.get("/journal/?type=login_failed").get_data(as_text=True)
    assert "connexion refusée" in page and "1 entrée" in page
    page = client.get(f"/journal/?personne={director.id}").get_data(as_text=True)
    assert "connexion refusée</td>" not in page and "connexion</td>" in page
    response = client.get("/journal/export.csv?type=login")
    assert response.status_code == 200
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("seq;date;type")
    assert len(lines) == 2 and director.email in lines[1]
    # Bad filters show nothing rather than everything, and never a 500.
    assert client.get("/journal/?du=pas-une-date&page=-3").status_code == 200
    assert "0 entrée" in client.get("/journal/?du=pas-une-date").get_data(as_text=True)


def test_the_journal_head_command_prints_the_head(app, runner):
    _three_schools()
    head = db.session.get(JournalHead, chain.HEAD_ID)
    result = runner.invoke(args=["journal", "head"])
    assert result.output.strip() == f"3 {head.hash}"


def test_postgresql_locks_the_head_until_commit(app):
    """A second writer waits for the first one's commit (PostgreSQL only: SQLite has one
    writer at a time anyway)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    db.session.add(School(name="A", short_name="a"))
    db.session.commit()  # the head row exists
    db.session.add(School(name="B", short_name="b"))
    db.session.flush()  # holds the head's lock
    with db.engine.connect() as other:
        other.execute(text("SET lock_timeout = '200ms'"))
        with pytest.raises(Exception, match="lock"):
            other.execute(text("SELECT seq FROM journal_head WHERE id = 1 FOR UPDATE"))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == 2
    with db.engine.connect() as other:  # free again
        other.execute(text("SET lock_timeout = '200ms'"))
        assert other.scalar(text("SELECT seq FROM journal_head WHERE id = 1 FOR UPDATE")) == 2


def test_the_text_of_a_file_never_enters_the_journal(app, make_user, make_evidence):
    """Search text may hold learners' personal data; the journal cannot forget it."""
    evidence = make_evidence(make_user(Role.QUALITY_LEAD), fixture="preuve.pdf")
    assert evidence.search_text
    details = " ".join(e.detail for e in _entries())
    assert "search_text" not in details and "extracted_text" not in details
    assert json.loads(_entries(table_name="evidence")[0].detail)["fields"]["title"][1] == "preuve"


def test_a_command_entry_is_filed_under_the_school_of_its_parent(app, school):
    """The demo and other commands act as nobody: their entries still reach the school's
    journal through the row's own school or a loaded parent's."""
    campaign = factories.CampaignFactory(school=school)
    milestone = factories.MilestoneFactory(campaign=campaign)
    db.session.commit()
    entry = _entries(table_name="milestone", record_id=str(milestone.id))[0]
    assert entry.actor_id is None and entry.school_id == school.id


def test_the_csv_export_is_bounded(app, school):
    from audit_tracker.journal import service

    for n in range(4):
        factories.CampaignFactory(school=school, name=f"Campagne {n}")
        db.session.commit()
    rows = list(service.export_rows(db.session, school.id, service.Filters(), limit=2))
    assert len(rows) == 3 and rows[0][0] == "seq"  # the header, then the 2 most recent
    assert [int(r[0]) for r in rows[1:]] == sorted((int(r[0]) for r in rows[1:]), reverse=True)

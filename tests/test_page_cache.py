"""The dashboard's content is computed once per state of the record: a second visit is served
from the cache in a few statements, and anything recorded, the next day, another language,
another role or another school is computed afresh (web/page_cache.py)."""

from __future__ import annotations

import logging
import os
from datetime import timedelta

import pytest
from cachelib import SimpleCache
from sqlalchemy import event, select

from audit_tracker import create_app
from audit_tracker.clock import local_today, set_today
from audit_tracker.demo_story import load_demo_story
from audit_tracker.extensions import db
from audit_tracker.findings.service import (
    ActionInput,
    FindingInput,
    create_action,
    create_finding,
)
from audit_tracker.journal import Actor, use_actor
from audit_tracker.journal.chain import NETWORK
from audit_tracker.journal.hooks import owner_scope
from audit_tracker.models import (
    Campaign,
    Criterion,
    Finding,
    JournalHead,
    JournalRevision,
    MilestoneKind,
    Role,
    User,
)
from audit_tracker.storage import upload_tmp_dir
from audit_tracker.web import page_cache

from . import factories

REDIS_URL = os.environ.get("AUDIT_TRACKER_TEST_REDIS_URL")


@pytest.fixture
def story(app, demo_today, storage):
    load_demo_story(db.session, storage, upload_tmp_dir(app), today=local_today())
    return demo_today


def the_campaign() -> Campaign:
    return db.session.scalar(select(Campaign).limit(1))


def url() -> str:
    return f"/campagnes/{the_campaign().id}/preparation"


def visit(client, path: str) -> tuple[str, int]:
    """The page's HTML and the number of SQL statements its request ran."""
    count = 0

    def counter(*_args):
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        response = client.get(path)
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True), count


def content_of(page: str) -> str:
    return page[page.index('<main class="container" id="contenu">'):page.index("</main>")]


def test_a_second_visit_is_served_from_the_cache(client, auth, story):
    auth.login_demo(story, "direction")
    computed, cold = visit(client, url())
    served, warm = visit(client, url())
    assert served == computed
    assert "Sommes-nous prêts ?" in served and served.count("<svg") == 2
    assert f"<title>Préparation · {the_campaign().name}" in served  # the title kept beside it
    # The user with their school (the director's two-factor rule) and the school's revision:
    # the campaign, its criteria, findings, actions, snapshots and sites are not read again.
    assert warm == 2 and cold > 8, (warm, cold)


def test_anything_recorded_is_seen_at_the_next_visit(client, auth, story):
    auth.login_demo(story, "direction")
    before, _ = visit(client, url())
    assert "Relancer le financeur régional" not in before
    director = db.session.scalar(select(User).where(User.email == "direction@e2c-var.example"))
    create_action(db.session, the_campaign(), director, ActionInput(
        title="Relancer le financeur régional", owner=director,
        due_on=local_today() - timedelta(days=3)))
    db.session.commit()
    after, _ = visit(client, url())
    assert "Relancer le financeur régional" in after and "3 jours de retard" in after


def test_the_next_day_is_computed_again(app, client, auth, story):
    auth.login_demo(story, "direction")
    today, _ = visit(client, url())
    set_today(app, local_today() + timedelta(days=1))
    tomorrow, statements = visit(client, url())
    assert tomorrow != today and "J-54" in tomorrow and "J-55" in today
    assert statements > 8


def test_each_role_sees_its_own_page(client, auth, story):
    auth.login_demo(story, "direction")
    director_page, _ = visit(client, url())
    auth.logout()
    auth.login_demo(story, "qualite")
    quality_page, _ = visit(client, url())
    assert "Signer l’état de préparation" in director_page
    assert "Signer l’état de préparation" not in quality_page and "Signatures" in quality_page


def test_the_language_is_part_of_the_key(client, auth, story):
    auth.login_demo(story, "direction")
    french, _ = visit(client, url())
    client.post("/langue", data={"language": "en", "next": url()})
    english, statements = visit(client, url())
    assert "Sommes-nous prêts ?" in french and "Are we ready?" in english
    assert statements > 8


def test_another_schools_campaign_is_not_found_even_when_cached(client, auth, story):
    auth.login_demo(story, "direction")
    visit(client, url())  # cached now
    stranger = factories.UserFactory(role=Role.DIRECTOR, school=factories.SchoolFactory())
    db.session.commit()
    auth.logout()
    auth.login(stranger)
    assert client.get(url()).status_code == 404


def test_schools_that_share_a_revision_never_share_a_page(client, auth, story):
    """After an upgrade (migration 0018), schools with no change since have no revision of their
    own: the school named in the key still keeps another school's campaign out of reach."""
    auth.login_demo(story, "direction")
    visit(client, url())  # cached now
    stranger = factories.UserFactory(role=Role.DIRECTOR, school=factories.SchoolFactory())
    db.session.commit()
    db.session.execute(JournalRevision.__table__.delete()
                       .where(JournalRevision.scope != NETWORK))
    db.session.commit()
    assert page_cache.revision(stranger.school_id).split(":", 1)[1] == \
        page_cache.revision(the_campaign().school_id).split(":", 1)[1]
    auth.logout()
    auth.login(stranger)
    assert client.get(url()).status_code == 404


def test_what_was_asked_is_read_again_at_each_visit(client, auth, story):
    """A date that cannot be read is said at every visit, the page being served or computed."""
    auth.login_demo(story, "direction")
    for _ in range(2):
        page, _statements = visit(client, url() + "?date=31/02")
        assert "Date de référence illisible" in page
    on_a_day, statements = visit(client, url() + "?date=2027-01-15")
    assert "État au 15 janvier 2027" in on_a_day and statements > 8
    assert visit(client, url() + "?date=2027-01-15")[1] == 2


def test_the_computed_page_can_be_measured_again(app, client, auth, story):
    auth.login_demo(story, "direction")
    _, cold = visit(client, url())
    page_cache.clear(app)
    _, again = visit(client, url())
    assert again == cold


def test_settings_are_checked_when_the_app_is_built(tmp_path):
    base = {"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    with pytest.raises(RuntimeError, match="valeurs possibles simple, redis ou none"):
        create_app({**base, "PAGE_CACHE": "memcached"})
    with pytest.raises(RuntimeError, match="demande AUDIT_TRACKER_REDIS_URL"):
        create_app({**base, "PAGE_CACHE": "redis", "REDIS_URL": None})


def test_no_cache_computes_every_visit(app, client, auth, story):
    app.config["PAGE_CACHE"] = "none"
    page_cache.init_page_cache(app)
    auth.login_demo(story, "direction")
    _, first = visit(client, url())
    _, second = visit(client, url())
    assert first == second > 8


def test_a_redis_that_does_not_answer_is_a_miss_not_an_error(app, client, auth, story, caplog):
    app.config.update(PAGE_CACHE="redis", REDIS_URL="redis://127.0.0.1:1/0")
    page_cache.init_page_cache(app)
    auth.login_demo(story, "direction")
    with caplog.at_level(logging.WARNING, logger="audit_tracker.web.page_cache"):
        page, statements = visit(client, url())
    assert "Sommes-nous prêts ?" in page and statements > 8
    assert "page cache unavailable" in caplog.text


@pytest.mark.skipif(not REDIS_URL, reason="Redis not selected: set AUDIT_TRACKER_TEST_REDIS_URL "
                    "(.ci/run does)")
def test_two_web_processes_share_the_redis_cache(app, auth, story, database_url, tmp_path):
    """Two applications on one database and one Redis, as two gunicorn processes: what one
    computed, the other serves."""
    app.config.update(PAGE_CACHE="redis", REDIS_URL=REDIS_URL)
    page_cache.init_page_cache(app)
    other = create_app({**{k: app.config[k] for k in (
        "TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "WTF_CSRF_ENABLED", "TODAY")},
        "INSTANCE_PATH": str(tmp_path / "other"), "PAGE_CACHE": "redis",
        "REDIS_URL": REDIS_URL})
    set_today(other, local_today())
    first, second = app.test_client(), other.test_client()
    for client in (first, second):
        type(auth)(client).login_demo(story, "direction")
    computed, cold = visit(first, url())
    with other.app_context():
        served, warm = visit(second, url())
    # The same content; the layout around it is each session's (its form token).
    assert content_of(served) == content_of(computed)
    assert warm <= 8 < cold, (warm, cold)


def test_another_schools_work_leaves_this_schools_page_cached(client, auth, story):
    auth.login_demo(story, "direction")
    _, cold = visit(client, url())
    elsewhere = factories.CampaignFactory(school=factories.SchoolFactory(name="E2C Ailleurs"))
    factories.MilestoneFactory(campaign=elsewhere, kind=MilestoneKind.PRE_AUDIT)
    db.session.commit()
    _, warm = visit(client, url())
    assert warm <= 8 < cold, (warm, cold)


def test_a_referent_recording_in_the_school_moves_its_revision(client, auth, story):
    """The référent belongs to another school: the finding is the visited school's record, so
    that school's page is computed again (the journal files it under the actor's school)."""
    auth.login_demo(story, "direction")
    before, _ = visit(client, url())
    referent = factories.UserFactory(role=Role.NETWORK_REFERENT,
                                     school=factories.SchoolFactory(name="Réseau E2C France"))
    db.session.commit()
    pre_audit = next(m for m in the_campaign().milestones if m.kind is MilestoneKind.PRE_AUDIT)
    framework = the_campaign().frameworks[0]
    with use_actor(Actor(origin="page", user_id=referent.id, email=referent.email,
                         school_id=referent.school_id)):
        create_finding(db.session, pre_audit, referent, FindingInput(
            framework=framework, type_code="point_vigilance",
            title="Affichage des horaires absent à l’accueil"))
        db.session.commit()
    after, _ = visit(client, url())
    assert "Affichage des horaires absent" not in before
    assert "Affichage des horaires absent" in after


def test_each_record_is_owned_by_its_school_or_by_the_network(story):
    campaign = the_campaign()
    finding = db.session.scalar(select(Finding).limit(1))
    criterion = db.session.scalar(select(Criterion).limit(1))
    assert owner_scope(campaign.school) == campaign.school_id
    assert owner_scope(campaign) == campaign.school_id
    # Through its milestone and campaign, once the session holds them (as the view that
    # changes a finding does): never a query of its own.
    assert campaign.milestones
    assert owner_scope(finding) == campaign.school_id
    assert owner_scope(criterion) == NETWORK  # the référentiels are everyone's
    criterion.guidance = (criterion.guidance or "") + " Précision."
    db.session.commit()
    rows = dict(db.session.execute(select(JournalRevision.scope, JournalRevision.hash)).all())
    head_hash = db.session.scalar(select(JournalHead.hash))
    assert rows[NETWORK] == head_hash  # the last change was a référentiel's
    assert rows[campaign.school_id] != head_hash


def test_a_process_keeps_its_own_copy_of_what_the_shared_cache_gave():
    near, far = SimpleCache(), SimpleCache()
    tiered = page_cache.Tiered(near, far)
    far.set("k", "<p>page</p>")  # written by another process
    assert near.get("k") is None
    assert tiered.get("k") == "<p>page</p>" and near.get("k") == "<p>page</p>"
    tiered.set("j", "<p>autre</p>")
    assert near.get("j") == far.get("j") == "<p>autre</p>"
    assert tiered.get("absent") is None and near.get("absent") is None

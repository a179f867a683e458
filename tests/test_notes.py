"""The monthly progress note: its computed parts on the E2C Var demo at its real dates (the note
of February 2018 is the source document), drafts, conflicts, issuing and corrections."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from audit_tracker.clock import set_today
from audit_tracker.domain.errors import Conflict
from audit_tracker.extensions import db
from audit_tracker.models import Campaign, NoteStatus, User
from audit_tracker.notes import service
from audit_tracker.notes.compute import compute

SEED = date(2018, 2, 28)
FEBRUARY = date(2018, 2, 1)


def plain(text: str) -> str:
    """Narrow and ordinary no-break spaces as plain spaces, for readable assertions."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


@pytest.fixture
def seed(app, demo):
    """The demo at its real dates, the clock on the source note's day."""
    set_today(app, SEED)
    campaign = db.session.scalar(select(Campaign))
    users = {u.email.split("@")[0]: u for u in db.session.scalars(select(User))}
    return campaign, users


def test_february_2018_holds_the_source_table_cell_for_cell(seed):
    campaign, _users = seed
    parts = compute(db.session, campaign, FEBRUARY, SEED)
    sites = parts["sites"]
    cells = [[plain(row[k]) for k in ("opened", "entries", "qpv", "companies", "positive")]
             for row in sites["rows"]]
    assert cells == [
        ["13/03/17", "134", "22 %", "143", "38 %"],
        ["26/06/17", "48", "6 %", "39", "75 %"],
        ["25/09/17", "29", "14 %", "33", "50 %"],
        ["23/10/17", "41", "10 %", "21", "50 %"],
    ]
    assert [row["site"].split(" (")[0] for row in sites["rows"]] == [
        "Site TPM", "Site CAVEM", "Site Provence Verte", "Site Dracénie"]
    total = sites["total"]
    assert [plain(total[k]) for k in ("entries", "qpv", "companies", "positive")] == [
        "252", "16 %", "236", "46 %"]
    assert plain(sites["title"]) == "Informations clés au 28/02/2018"
    bullets = [plain(b) for b in sites["bullets"]]
    assert bullets[0] == "30 sorties positives dont 15 en formation, 10 en emploi, 5 en alternance"
    assert bullets[1] == ("16 % de stagiaires issus des QPV (objectif fixé par le réseau et "
                          "financeurs : 40 %)")
    assert bullets[2] == "68 % de non diplômés (objectif fixé par le réseau et financeurs : 85 %)"
    # January's end is the comparison when no note was issued before.
    assert bullets[3].startswith("Depuis fin janvier 2018 : +")
    assert sites["month_has_figures"] is True
    assert len(sites["footnotes"]) == 2


def test_february_2018_network_governance_and_annex(seed):
    campaign, _users = seed
    parts = compute(db.session, campaign, FEBRUARY, SEED)
    passed = parts["network"]["passed"]
    assert [p["title"] for p in passed] == ["Pré-audit de labellisation"]
    assert passed[0]["dates"] == "20-22 février 2018"
    assert "avis favorable" in passed[0]["outcome"]
    coming = {c["title"]: c for c in parts["network"]["next"]}
    audit = coming["Audit de labellisation AFNOR Certification"]
    assert (audit["dates"], audit["days_left"]) == ("24-26 avril 2018", 55)
    assert plain(audit["days_label"]) == "dans 55 jours"
    commission = coming["Commission Nationale de Labellisation"]
    assert (commission["dates"], commission["days_left"]) == ("17 mai 2018", 78)

    held = parts["governance"]["held"]
    assert [(m["title"], m["date"], m["minutes"]) for m in held] == [
        ("Rencontre des relais des quartiers prioritaires", "08/02/2018", False)]

    bodies = {b["body"]: b for b in parts["annex"]["bodies"]}
    assert list(bodies)[:2] == ["Sous-comité financier", "Comité stratégique"]
    finance = bodies["Sous-comité financier"]["sites"][0]
    assert finance["site"] is None and finance["hours"] == "de 14:00 à 15:30"
    assert [d["date"] for d in finance["dates"]] == ["29/05/2018"]
    reviews = {s["site"].split(" (")[0]: s for s in
               bodies["Commission de suivi des stagiaires"]["sites"]}
    assert [d["date"] for d in reviews["Site CAVEM"]["dates"]] == [
        "13/03/2018", "15/05/2018", "10/07/2018"]
    assert reviews["Site Dracénie"]["hours"] == "de 10:00 à 12:00"
    assert len(bodies["Comité opérationnel local"]["sites"]) == 4


def test_a_month_without_figures_shows_a_dash_not_zero(seed):
    campaign, _users = seed
    parts = compute(db.session, campaign, date(2017, 1, 1), date(2017, 1, 31))
    sites = parts["sites"]
    assert {row["entries"] for row in sites["rows"]} == {"—"}
    assert sites["total"]["qpv"] == "—" and sites["total"]["positive"] == "—"
    assert sites["bullets"] == []
    assert "Aucun chiffre saisi pour janvier 2017" in sites["no_figures_message"]


def test_a_future_month_is_refused(seed):
    campaign, users = seed
    with pytest.raises(service.NoteError, match="pas encore commencé"):
        service.prepare(db.session, campaign, date(2018, 3, 1), users["direction"], SEED)
    assert service.notes_of(db.session, campaign) == []


def test_prepare_reuses_the_draft_and_a_stale_edit_is_a_conflict(seed):
    campaign, users = seed
    note = service.prepare(db.session, campaign, FEBRUARY, users["direction"], SEED)
    db.session.commit()
    assert note.as_of == SEED and note.status is NoteStatus.DRAFT
    again = service.prepare(db.session, campaign, FEBRUARY, users["qualite"], SEED)
    assert again.id == note.id
    seen = note.lock_version
    service.save(db.session, note, service.FreeParts(financing="Dossiers déposés."),
                 users["qualite"], seen)
    db.session.commit()
    with pytest.raises(Conflict):
        service.save(db.session, note, service.FreeParts(financing="Autre texte"),
                     users["direction"], seen)
    db.session.rollback()
    assert db.session.get(type(note), note.id).financing == "Dossiers déposés."


def test_free_parts_are_bounded(seed):
    campaign, users = seed
    note = service.prepare(db.session, campaign, FEBRUARY, users["direction"], SEED)
    with pytest.raises(service.NoteError, match="Financements"):
        service.save(db.session, note, service.FreeParts(financing="x" * 10_001),
                     users["direction"], note.lock_version)


def test_with_the_story_the_pre_audit_brings_its_points_forts_and_minutes_count(
        app, referentiels, storage):
    """The demo as `flask demo load --real-dates` loads it: the pré-audit's findings are its
    outcome, and the relais meeting's minutes are filed."""
    from audit_tracker.demo import load_demo
    from audit_tracker.demo_story import load_demo_story
    from audit_tracker.storage import upload_tmp_dir

    set_today(app, SEED)
    load_demo(db.session, today=None)
    db.session.commit()
    load_demo_story(db.session, storage, upload_tmp_dir(app), today=None)
    campaign = db.session.scalar(select(Campaign))
    parts = compute(db.session, campaign, FEBRUARY, SEED)
    pre_audit = parts["network"]["passed"][0]
    groups = {g["type"]: g["titles"] for g in pre_audit["findings"]}
    assert any("modèle innovant à fort potentiel" in t for t in groups["Point fort"])
    assert pre_audit["report"] is True
    assert parts["governance"]["held"][0]["minutes"] is True


def test_a_new_draft_takes_the_schools_cofunding_mention(seed):
    """The mention is a school setting (its presentation); the note keeps its own copy."""
    from audit_tracker.school.service import presentation

    campaign, users = seed
    profile = presentation(db.session, campaign.school).profile
    assert profile.cofunding_statement.startswith("Cette formation est cofinancée")
    note = service.prepare(db.session, campaign, FEBRUARY, users["direction"], SEED)
    assert note.cofunding == " ".join(profile.cofunding_statement.split())

"""Personal data erased for good: a proof or a version by direction, then what is past its
retention date; a tombstone in the journal, the file gone from storage, the chain intact."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from audit_tracker.clock import local_today
from audit_tracker.evidence import erasure
from audit_tracker.evidence.service import EvidenceError, add_version
from audit_tracker.extensions import db
from audit_tracker.models import Evidence, EvidenceVersion, JournalEntry, Role

from .test_reminders import smtp_server  # noqa: F401 - a real SMTP server (aiosmtpd)


@pytest.fixture
def quality(make_user):
    return make_user(Role.QUALITY_LEAD)


@pytest.fixture
def director(make_user):
    return make_user(Role.DIRECTOR)


def _tombstones() -> list[JournalEntry]:
    return list(db.session.scalars(
        select(JournalEntry).where(JournalEntry.kind == erasure.TOMBSTONE)
        .order_by(JournalEntry.seq)))


def _personal(make_evidence, quality, title: str, until: date, fixture: str = "preuve.pdf"):
    return make_evidence(quality, fixture=fixture, title=title, personal_data=True,
                         retention_until=until)


def test_director_erases_one_version_the_proof_keeps_the_other(
        app, quality, director, make_evidence, receive, storage, runner):
    """The version's row and file go, a tombstone names its hash, never its name."""
    proof = _personal(make_evidence, quality, "Fiche de Mme Martin", date(2030, 1, 1))
    second = add_version(db.session, storage, proof, receive("v2.png", fixture="image.png"),
                         quality)
    db.session.commit()
    first = proof.versions[0]
    key, digest, second_key = first.storage_key, first.sha256, second.storage_key

    with pytest.raises(EvidenceError, match="Seule la direction"):
        erasure.erase_version(db.session, first, "demande", by=quality)
    erased = erasure.erase_version(db.session, first, "demande de l’intéressée", by=director)
    db.session.commit()
    assert storage.exists(key)  # the file waits for the commit
    assert erasure.erase_files(storage, [erased]) == 1
    assert not storage.exists(key) and storage.exists(second_key)
    db.session.expire_all()
    assert [v.number for v in db.session.get(Evidence, proof.id).versions] == [2]

    (tomb,) = _tombstones()
    detail = json.loads(tomb.detail)
    assert detail["reason"] == "demande de l’intéressée"
    assert detail["versions"][0]["sha256"] == digest
    assert "preuve" not in tomb.detail  # the file's name is not copied into the tombstone
    assert runner.invoke(args=["journal", "verify"]).exit_code == 0
    assert runner.invoke(args=["evidence", "verify"]).exit_code == 0

    # The last version cannot go alone: the whole proof must.
    with pytest.raises(EvidenceError, match="seule version"):
        erasure.erase_version(db.session, db.session.get(Evidence, proof.id).versions[0], "x")


def test_retention_run_lists_then_erases_what_is_past_its_date(
        app, quality, make_evidence, storage, runner):
    """--dry-run erases nothing; the run erases the expired proof, keeps the others, warns."""
    today = local_today()
    expired = _personal(make_evidence, quality, "Émargements 2019", today - timedelta(days=1))
    soon = _personal(make_evidence, quality, "Contrats 2020", today + timedelta(days=20),
                     fixture="image.png")
    kept = _personal(make_evidence, quality, "Bilans 2024", today + timedelta(days=400),
                     fixture="document.odt")
    expired_key = expired.versions[0].storage_key
    expired_id = expired.id

    dry = runner.invoke(args=["retention", "run", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"À EFFACER  preuve {expired_id} « Émargements 2019 »" in dry.output
    assert f"BIENTÔT   preuve {soon.id} « Contrats 2020 »" in dry.output
    assert "Bilans 2024" not in dry.output
    assert "1 preuve(s) à effacer (essai" in dry.output
    assert storage.exists(expired_key)
    assert db.session.get(Evidence, expired_id) is not None

    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "1 preuve(s) effacée(s), 1 fichier(s) supprimé(s)" in result.output
    db.session.expire_all()
    assert db.session.get(Evidence, expired_id) is None
    assert not storage.exists(expired_key)
    assert db.session.scalar(select(func.count(EvidenceVersion.id))) == 2
    assert {e.id for e in db.session.scalars(select(Evidence))} == {soon.id, kept.id}
    (tomb,) = _tombstones()
    assert (tomb.table_name, tomb.record_id) == ("evidence", str(expired_id))
    assert json.loads(tomb.detail)["reason"] == "durée de conservation dépassée"
    assert runner.invoke(args=["journal", "verify"]).exit_code == 0
    verify = runner.invoke(args=["evidence", "verify"])
    assert verify.exit_code == 0, verify.output

    again = runner.invoke(args=["retention", "run"])
    assert "0 preuve(s) effacée(s)" in again.output


def test_erase_command_refuses_unknown_proofs_and_versions(app, quality, make_evidence, runner):
    """Plain French refusals; nothing erased."""
    proof = make_evidence(quality)
    assert "Preuve inconnue" in runner.invoke(
        args=["evidence", "erase", "999", "--reason", "x"]).output
    missing = runner.invoke(args=["evidence", "erase", str(proof.id), "--version", "7",
                                  "--reason", "x"])
    assert missing.exit_code == 1 and "pas de version 7" in missing.output
    done = runner.invoke(args=["evidence", "erase", str(proof.id), "--reason", "demande"])
    assert done.exit_code == 0, done.output
    assert db.session.scalar(select(func.count(Evidence.id))) == 0


def test_the_director_erases_from_the_proofs_page(app, client, auth, quality, director,
                                                   make_evidence, receive, storage):
    """The form on the proof's page: a version, then the whole proof; confirmation required."""
    proof = _personal(make_evidence, quality, "Dossier de M. Durand", date(2030, 1, 1))
    add_version(db.session, storage, proof, receive("v2.png", fixture="image.png"), quality)
    db.session.commit()
    keys = [v.storage_key for v in proof.versions]
    url = f"/preuves/{proof.id}/effacer"

    auth.login(quality)
    assert "Effacer définitivement" not in client.get(f"/preuves/{proof.id}").get_data(True)
    assert client.post(url, data={"reason": "x", "confirm": "y"}).status_code == 403
    auth.logout()

    auth.login(director)
    page = client.get(f"/preuves/{proof.id}").get_data(as_text=True)
    assert "Effacer définitivement (données personnelles)" in page
    assert "Seulement la version v1" in page
    unconfirmed = client.post(url, data={"version": "1", "reason": "demande"},
                              follow_redirects=True)
    assert "Cochez la confirmation." in unconfirmed.get_data(as_text=True)
    assert storage.exists(keys[0])

    done = client.post(url, data={"version": "1", "reason": "demande", "confirm": "y"},
                       follow_redirects=True)
    assert "Version v1 effacée définitivement" in done.get_data(as_text=True)
    assert not storage.exists(keys[0]) and storage.exists(keys[1])

    gone = client.post(url, data={"reason": "demande", "confirm": "y"}, follow_redirects=True)
    assert "Preuve effacée définitivement" in gone.get_data(as_text=True)
    assert not storage.exists(keys[1])
    assert client.get(f"/preuves/{proof.id}").status_code == 404
    assert [t.table_name for t in _tombstones()] == ["evidence_version", "evidence"]


def test_what_pointed_to_an_erased_proof_forgets_it(app, quality, make_evidence, runner):
    """The organigramme's proof erased: the profile stays, without it; the tombstone says so."""
    from audit_tracker.models import SchoolProfile

    proof = make_evidence(quality)
    db.session.add(SchoolProfile(school_id=quality.school_id, organigramme_evidence_id=proof.id))
    db.session.commit()
    erasure.erase_evidence(db.session, proof, "organigramme nominatif")
    db.session.commit()
    db.session.expire_all()
    profile = db.session.get(SchoolProfile, quality.school_id)
    assert profile is not None and profile.organigramme_evidence_id is None
    (tomb,) = _tombstones()
    assert json.loads(tomb.detail)["unlinked"] == {
        "school_profile.organigramme_evidence_id": [quality.school_id]}
    assert runner.invoke(args=["journal", "verify"]).exit_code == 0


def test_the_quality_lead_is_warned_a_month_before(app, client, auth, quality, make_user,
                                                   make_evidence):
    """The library warns the quality lead of what ends within a month; a site manager not."""
    today = local_today()
    _personal(make_evidence, quality, "Contrats 2020", today + timedelta(days=30))
    _personal(make_evidence, quality, "Bilans 2024", today + timedelta(days=45),
              fixture="image.png")
    auth.login(quality)
    page = client.get("/preuves/").get_data(as_text=True)
    assert "1 preuve avec données personnelles arrive au terme de sa conservation" in page
    assert "Contrats 2020</a> — conservation jusqu’au" in page
    assert "Bilans 2024</a> —" not in page
    auth.logout()
    auth.login(make_user(Role.SITE_MANAGER))
    assert 'data-testid="retention-due"' not in client.get("/preuves/").get_data(as_text=True)


def test_retention_run_emails_the_quality_lead_once_a_month_before(
        app, quality, director, make_evidence, runner, smtp_server):  # noqa: F811
    today = local_today()
    soon = _personal(make_evidence, quality, "Contrats 2020", today + timedelta(days=20))
    _personal(make_evidence, quality, "Bilans 2024", today + timedelta(days=400),
              fixture="image.png")

    dry = runner.invoke(args=["retention", "run", "--dry-run"])
    assert f"AVERTIR   {quality.email} : 1 preuve(s)" in dry.output
    assert smtp_server.received == []

    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "1 avertissement(s) de fin de conservation envoyé(s)" in result.output
    (recipients, message), = smtp_server.received
    assert recipients == [quality.email]  # the quality lead, not the director
    assert message["Subject"] == "[audit_tracker] 1 preuve avec données personnelles bientôt " \
                                 "effacée"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert f"« Contrats 2020 » : conservation jusqu’au {soon.retention_until:%d/%m/%Y}" in body
    assert f"/preuves/{soon.id}" in body and "Bilans 2024" not in body
    warned = db.session.scalars(select(JournalEntry).where(
        JournalEntry.kind == erasure.RETENTION_WARNING)).all()
    assert [(w.record_id, json.loads(w.detail)["to"]) for w in warned] == [
        (str(soon.id), quality.email)]

    # Once per retention date: the next day's run says nothing more…
    runner.invoke(args=["retention", "run"])
    assert len(smtp_server.received) == 1
    # …until the date moves and comes within the month again.
    evidence = db.session.get(Evidence, soon.id)
    evidence.retention_until = today + timedelta(days=25)
    db.session.commit()
    runner.invoke(args=["retention", "run"])
    assert len(smtp_server.received) == 2
    assert runner.invoke(args=["journal", "verify"]).exit_code == 0


def test_without_a_sender_the_warning_waits_and_is_not_marked_sent(
        app, quality, make_evidence, runner):
    _personal(make_evidence, quality, "Contrats 2020", local_today() + timedelta(days=20))
    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0
    assert "1 avertissement(s) non envoyé(s)" in result.output
    assert db.session.scalar(select(func.count(JournalEntry.seq)).where(
        JournalEntry.kind == erasure.RETENTION_WARNING)) == 0

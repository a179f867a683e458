"""Issued progress notes sealed and carrying the journal's head (issue 12, items 8 and « the
chain's head is printed on each dossier and issued note »): an HMAC seal over the note's hash,
issuer, date, files and that head, with the key kept outside the database."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from audit_tracker.extensions import db
from audit_tracker.journal.chain import verify
from audit_tracker.journal.service import head
from audit_tracker.models import JournalEntry, ProgressNote, User
from audit_tracker.notes.service import seal_state

from .test_notes_pages import campaign, docx_text, issue, pdf_text, prepare  # noqa: F401


@pytest.fixture
def issued(app, client, auth, demo, campaign):  # noqa: F811 - the imported fixture
    app.config["SIGNING_KEY"] = "clé-de-scellement-de-test"
    auth.login_demo(demo, "direction")
    note_id = prepare(client, campaign)
    before = head(db.session)
    assert issue(client, campaign, note_id).status_code == 302
    note = db.session.get(ProgressNote, note_id)
    return note, before


def _badge(client, note) -> str:
    page = client.get(f"/campagnes/{note.campaign_id}/notes/{note.id}").get_data(as_text=True)
    match = re.search(r'data-testid="note-seal">([^<]*)<', page)
    assert match, "no seal on the page"
    return match.group(1)


def test_an_issued_note_is_sealed_and_prints_the_journal_head(client, issued, tmp_path):
    note, before = issued
    assert re.fullmatch(r"[0-9a-f]{64}", note.seal or "")
    # The head read when the note was issued: at or after the one before the request, and
    # before the entry that records the issuing itself.
    assert note.journal_seq >= before[0] > 0
    issuing = db.session.scalar(select(func.min(JournalEntry.seq)).where(
        JournalEntry.table_name == "progress_note", JournalEntry.record_id == str(note.id),
        JournalEntry.detail.contains("emise")))
    assert issuing is not None and issuing > note.journal_seq
    assert seal_state(db.session, note) == "intact"
    assert _badge(client, note) == "Sceau intègre."
    line = f"Journal : entrée n° {note.journal_seq}, empreinte {note.journal_hash}"
    page = client.get(f"/campagnes/{note.campaign_id}/notes/{note.id}").get_data(as_text=True)
    assert line in page
    pdf = client.get(f"/campagnes/{note.campaign_id}/notes/{note.id}/pdf").data
    assert f"entrée n° {note.journal_seq}" in pdf_text(pdf, tmp_path)
    assert note.journal_hash[:40] in pdf_text(pdf, tmp_path).replace("\n", "")
    body, _table = docx_text(client.get(f"/campagnes/{note.campaign_id}/notes/{note.id}/docx"
                                        ).data)
    assert line in body
    # The chain, intact, still holds that entry: anyone with the note can check it.
    assert verify(db.session.connection()).ok
    assert db.session.scalar(select(JournalEntry.hash).where(
        JournalEntry.seq == note.journal_seq)) == note.journal_hash


@pytest.mark.parametrize("column", ["issued_by_id", "issued_at", "sha256", "pdf_sha256",
                                    "journal_seq", "journal_hash"])
def test_a_sealed_field_changed_in_the_database_shows_altered(client, issued, column):
    note, _before = issued
    other = db.session.scalar(select(User.id).where(User.email == "qualite@e2c-var.example"))
    value = {"issued_by_id": other, "issued_at": note.issued_at - timedelta(days=3),
             "sha256": "0" * 64, "pdf_sha256": "1" * 64, "journal_seq": 1,
             "journal_hash": "2" * 64}[column]
    db.session.execute(update(ProgressNote).where(ProgressNote.id == note.id)
                       .values({column: value}))
    db.session.commit()
    db.session.expire_all()
    note = db.session.get(ProgressNote, note.id)
    assert seal_state(db.session, note) == "altered"
    assert "altérée" in client.get(f"/campagnes/{note.campaign_id}/notes/{note.id}"
                                   ).get_data(as_text=True)


def test_a_note_sealed_with_another_key_is_altered(app, issued):
    note, _before = issued
    app.config["SIGNING_KEY"] = "une-autre-clé"
    assert seal_state(db.session, note) == "altered"


def test_a_note_issued_before_seals_is_unsealed_not_altered(issued):
    note, _before = issued
    db.session.execute(update(ProgressNote).where(ProgressNote.id == note.id).values(seal=None))
    db.session.commit()
    db.session.expire_all()
    assert seal_state(db.session, db.session.get(ProgressNote, note.id)) == "unsealed"

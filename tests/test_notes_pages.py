"""The note pages, issuing, and the issued note's PDF (read back with pdftotext) and DOCX (read
back with python-docx), on the E2C Var demo at its real dates with the clock on 28/02/2018."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import date

import pytest
from docx import Document
from sqlalchemy import select

from audit_tracker.clock import set_today
from audit_tracker.extensions import db
from audit_tracker.models import Campaign, NoteStatus, ProgressNote, ReviewStatus

from .test_dossier_pdf import pdf_tool

SEED = date(2018, 2, 28)


def plain(text: str) -> str:
    return re.sub(r"[\u202f\u00a0]", " ", text)


@pytest.fixture
def campaign(app, demo):
    set_today(app, SEED)
    return db.session.scalar(select(Campaign))


def prepare(client, campaign, month="2018-02"):
    response = client.post(f"/campagnes/{campaign.id}/notes/preparer", data={"month": month})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(response.location.rstrip("/").rsplit("/", 1)[1])


def issue(client, campaign, note_id, lock_version=None):
    data = {} if lock_version is None else {"lock_version": str(lock_version)}
    return client.post(f"/campagnes/{campaign.id}/notes/{note_id}/emettre", data=data)


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "note.pdf"
    path.write_bytes(data)
    command = [pdf_tool("pdftotext"), "-enc", "UTF-8", "-layout", str(path), "-"]
    return plain(subprocess.run(command, check=True,  # noqa: S603 - poppler
                                capture_output=True, text=True).stdout)


def docx_text(data: bytes, which: int = 0) -> tuple[str, list[list[str]]]:
    """The paragraphs' text, and one table's cells (0: the key figures)."""
    document = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in document.paragraphs)
    tables = [[[plain(c.text) for c in row.cells] for row in t.rows] for t in document.tables]
    return plain(text), tables[which]


def test_director_prepares_edits_issues_and_gets_the_source_note(client, auth, demo, campaign,
                                                                  tmp_path):
    auth.login_demo(demo, "direction")
    page = client.get(f"/campagnes/{campaign.id}/notes/")
    assert "Préparer la note de février 2018" in page.get_data(as_text=True)
    note_id = prepare(client, campaign)
    draft = client.get(f"/campagnes/{campaign.id}/notes/{note_id}").get_data(as_text=True)
    assert "Informations clés au 28/02/2018" in draft and "Émettre la note" in draft
    response = client.post(f"/campagnes/{campaign.id}/notes/{note_id}", data={
        "financing": "L’E2C Var a soumis ses **demandes de subvention**.<script>x()</script>",
        "partnerships": "- Provence Rosé\n- Plombiers du numérique",
        "pedagogy": "", "governance_text": "Comité opérationnel local **CAVEM**.",
        "cofunding": "Cette formation est cofinancée par l’Union Européenne, l’Etat et la "
                     "Région Provence Alpes Côte d’Azur.",
        "lock_version": "1"})
    assert response.status_code == 302
    draft = client.get(f"/campagnes/{campaign.id}/notes/{note_id}").get_data(as_text=True)
    assert "<strong>demandes de subvention</strong>" in draft and "<script>" not in draft

    response = issue(client, campaign, note_id, 2)
    assert response.status_code == 302
    issued_page = client.get(response.location).get_data(as_text=True)
    assert "Émise le" in issued_page and "altérée" not in issued_page
    note = db.session.get(ProgressNote, note_id)
    assert note.status is NoteStatus.ISSUED and re.fullmatch(r"[0-9a-f]{64}", note.sha256)
    assert note.computed["sites"]["total"]["entries"] == "252"
    proof = note.evidence
    assert proof.status is ReviewStatus.VALIDATED
    assert proof.reviews[-1].reviewer.email == "direction@e2c-var.example"
    assert {link.criterion.code for link in proof.links} == {"A1", "A2"}
    assert note.sha256 in proof.description

    pdf = client.get(f"/campagnes/{campaign.id}/notes/{note_id}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data, tmp_path)
    for expected in ("Point d’avancement", "Informations clés au 28/02/2018",
                     "30 sorties positives dont 15 en formation, 10 en emploi, 5 en alternance",
                     "16 % de stagiaires issus des QPV", "40 %", "68 % de non diplômés", "85 %",
                     "24-26 avril 2018", "dans 55 jours", "17 mai 2018", "dans 78 jours",
                     "Sous-comité financier", "29 mai 2018", "Comité stratégique",
                     "Commission de suivi des stagiaires", "13/03/2018", "demandes de subvention",
                     "cofinancée par l’Union Européenne", note.sha256[:40]):
        assert expected in text, expected
    assert "<script>" not in text
    # pdftotext may drop the narrow no-break space before « % »: compare without it.
    table = re.sub(r"\s*%", "%", text)
    for row in (r"Site TPM\s+13/03/17\s+134\s+22%\s+143\s+38%",
                r"Site CAVEM\s+26/06/17\s+48\s+6%\s+39\s+75%",
                r"Site Provence Verte\s+25/09/17\s+29\s+14%\s+33\s+50%",
                r"Site Dracénie\s+23/10/17\s+41\s+10%\s+21\s+50%",
                r"Total\s+252\s+16%\s+236\s+46%"):
        assert re.search(row, table), row

    docx = client.get(f"/campagnes/{campaign.id}/notes/{note_id}/docx")
    assert docx.status_code == 200
    body, table = docx_text(docx.data)
    assert [row[1:] for row in table[1:]] == [
        ["13/03/17", "134", "22 %", "143", "38 %"],
        ["26/06/17", "48", "6 %", "39", "75 %"],
        ["25/09/17", "29", "14 %", "33", "50 %"],
        ["23/10/17", "41", "10 %", "21", "50 %"],
        ["", "252", "16 %", "236", "46 %"],
    ]
    for expected in ("30 sorties positives dont 15 en formation, 10 en emploi, 5 en alternance",
                     "16 % de stagiaires issus des QPV (objectif fixé par le réseau et "
                     "financeurs : 40 %)", "68 % de non diplômés (objectif fixé par le réseau "
                     "et financeurs : 85 %)", "24-26 avril 2018", "dans 55 jours",
                     "17 mai 2018", "dans 78 jours", "29 mai 2018 de 14:00 à 15:30",
                     "demandes de subvention"):
        assert expected in body, expected
    # The annex's committees and reviews as the source lays them: one column per site.
    _body, reviews = docx_text(docx.data, 2)
    assert reviews[0][0] == "Site CAVEM\nde 14:00 à 16:00"
    assert reviews[1][0] == "13/03/2018\n15/05/2018\n10/07/2018"
    assert [cell.split("\n")[0] for cell in reviews[0]] == [
        "Site CAVEM", "Site Dracénie", "Site Provence Verte", "Site TPM"]


def test_issuing_twice_or_editing_an_issued_note_is_refused(client, auth, demo, campaign):
    auth.login_demo(demo, "direction")
    note_id = prepare(client, campaign)
    assert issue(client, campaign, note_id).status_code == 302
    frozen = db.session.get(ProgressNote, note_id)
    sha, evidence_id = frozen.sha256, frozen.evidence_id
    db.session.expire_all()

    again = issue(client, campaign, note_id)
    page = client.get(again.location).get_data(as_text=True)
    assert "elle ne change plus" in page
    edit = client.post(f"/campagnes/{campaign.id}/notes/{note_id}",
                       data={"financing": "changé", "lock_version": "9"})
    assert "elle ne change plus" in client.get(edit.location).get_data(as_text=True)
    note = db.session.get(ProgressNote, note_id)
    assert (note.sha256, note.evidence_id, note.financing) == (sha, evidence_id, "")

    # A correction is a new note of the same month that says which one it replaces.
    correction = prepare(client, campaign)
    assert correction != note_id
    page = client.get(f"/campagnes/{campaign.id}/notes/{correction}").get_data(as_text=True)
    assert f"Cette note remplace la note n° {note_id}" in page


def test_a_stale_draft_form_gets_a_conflict(client, auth, demo, campaign):
    auth.login_demo(demo, "qualite")
    note_id = prepare(client, campaign)
    first = client.post(f"/campagnes/{campaign.id}/notes/{note_id}",
                        data={"financing": "Version A", "lock_version": "1"})
    assert first.status_code == 302
    stale = client.post(f"/campagnes/{campaign.id}/notes/{note_id}",
                        data={"financing": "Version B", "lock_version": "1"})
    assert stale.status_code == 409
    assert "modifiée par quelqu’un d’autre" in stale.get_data(as_text=True)
    assert db.session.get(ProgressNote, note_id).financing == "Version A"


def test_quality_lead_prepares_but_cannot_issue_and_readers_see_issued_notes_only(
        client, auth, demo, campaign):
    auth.login_demo(demo, "qualite")
    note_id = prepare(client, campaign)
    assert "Émettre la note" not in client.get(
        f"/campagnes/{campaign.id}/notes/{note_id}").get_data(as_text=True)
    assert issue(client, campaign, note_id).status_code == 403
    auth.logout()
    auth.login_demo(demo, "auditeur")
    assert client.get(f"/campagnes/{campaign.id}/notes/{note_id}").status_code == 404
    listing = client.get(f"/campagnes/{campaign.id}/notes/").get_data(as_text=True)
    assert "Aucune note émise" in listing and "Préparer" not in listing


def test_a_future_month_is_refused_in_french(client, auth, demo, campaign):
    auth.login_demo(demo, "direction")
    response = client.post(f"/campagnes/{campaign.id}/notes/preparer", data={"month": "2018-03"})
    assert "pas encore commencé" in client.get(response.location).get_data(as_text=True)
    bad = client.post(f"/campagnes/{campaign.id}/notes/preparer", data={"month": "mars"})
    assert "Mois illisible" in client.get(bad.location).get_data(as_text=True)
    assert db.session.scalar(select(ProgressNote)) is None


HOSTILE = ("<script>alert(1)</script> <para>x</para> & <font color=red>rouge</font> "
           "[lien](javascript:alert(1)) **gras** ☃ \x07 \u202e")


def test_hostile_free_text_is_escaped_in_the_page_the_pdf_and_the_docx(client, auth, demo,
                                                                      campaign, tmp_path):
    auth.login_demo(demo, "direction")
    note_id = prepare(client, campaign)
    saved = client.post(f"/campagnes/{campaign.id}/notes/{note_id}", data={
        "financing": HOSTILE, "partnerships": HOSTILE, "pedagogy": "x" * 10_000,
        "governance_text": HOSTILE, "cofunding": "<b>mention</b> & co", "lock_version": "1"})
    assert saved.status_code == 302
    page = client.get(f"/campagnes/{campaign.id}/notes/{note_id}").get_data(as_text=True)
    preview = page[page.index('data-testid="note-preview"'):]
    assert "<script>" not in preview and "javascript:" not in preview and "<font" not in preview
    assert "<strong>gras</strong>" in preview and "\x07" not in page
    assert "&lt;b&gt;mention&lt;/b&gt; &amp; co" in preview
    assert issue(client, campaign, note_id).status_code == 302
    text = pdf_text(client.get(f"/campagnes/{campaign.id}/notes/{note_id}/pdf").data, tmp_path)
    assert "<b>mention</b> & co" in text and "gras" in text and "<font" not in text
    body, _table = docx_text(client.get(f"/campagnes/{campaign.id}/notes/{note_id}/docx").data)
    assert "<b>mention</b> & co" in body and "gras" in body


def test_bad_months_and_days_never_give_a_500(client, auth, demo, campaign):
    auth.login_demo(demo, "direction")
    for data in ({"month": "2018-13"}, {"month": "2018-02", "as_of": "2018-02-30"},
                 {"month": "2018-02", "as_of": "2018-01-31"}, {"month": "9999-99"}, {}):
        response = client.post(f"/campagnes/{campaign.id}/notes/preparer", data=data)
        assert response.status_code == 302, data
        assert "alert-danger" in client.get(response.location).get_data(as_text=True), data
    assert client.get(f"/campagnes/{campaign.id}/notes/999").status_code == 404

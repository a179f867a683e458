"""Reminder e-mails: each action owner gets one digest of their unfinished actions that are late
or fall due within 14 days, with the findings those actions answer. ``flask reminders send`` runs
it, from cron, once a day or a week.

The e-mails are in French whatever the reader's last page language: a command has no session,
and the network's staff read French. They go out through one SMTP connection configured by the
``MAIL_*`` settings; their links are built on ``BASE_URL`` since no request tells the host.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from urllib.parse import urlsplit

from flask import Flask, render_template
from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager, selectinload

from ..extensions import db
from ..models import Action, ActionStatus, Finding, FindingStatus, Milestone, User

HORIZON_DAYS = 14
SMTP_TIMEOUT = 30  # seconds; cron must not hang on a dead relay
SUBJECT_PREFIX = "[audit_tracker]"

_UNFINISHED = (ActionStatus.TODO, ActionStatus.IN_PROGRESS)
_OPEN_FINDING = (FindingStatus.OPEN, FindingStatus.IN_PROGRESS)


class ReminderError(RuntimeError):
    """Sending failed as a whole (relay unreachable, refused login…); the message is French."""


@dataclass
class Digest:
    """What one owner is told: late actions, actions due soon, findings their actions answer."""

    owner: User
    late: list[Action] = field(default_factory=list)
    due_soon: list[Action] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def has_news(self) -> bool:
        return bool(self.late or self.due_soon or self.findings)


@dataclass
class SendReport:
    planned: list[EmailMessage] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # address, reason (French)


# ------------------------------------------------------------------------------------ gathering


def digests(session: Session, today: date, horizon_days: int = HORIZON_DAYS) -> list[Digest]:
    """One digest per active owner with an address and something to say, by address; two
    queries (actions, findings) plus one for owners who only have findings."""
    limit = today + timedelta(days=horizon_days)
    by_owner: dict[int, Digest] = {}
    actions = session.scalars(
        select(Action).join(Action.owner)
        .where(Action.status.in_(_UNFINISHED), Action.due_on <= limit,
               User.active.is_(True), User.email != "")
        .options(contains_eager(Action.owner), selectinload(Action.campaign),
                 selectinload(Action.site))
        .order_by(Action.due_on, Action.id))
    for action in actions:
        digest = by_owner.setdefault(action.owner_id, Digest(action.owner))
        (digest.late if action.due_on < today else digest.due_soon).append(action)

    # An owner is told about a finding due soon even when their own action is due later:
    # that is precisely the case to fix before the auditor comes back.
    rows = session.execute(
        select(Finding, Action.owner_id).join(Finding.actions).join(Action.owner)
        .where(Finding.status.in_(_OPEN_FINDING), Finding.due_on <= limit,
               Action.status.in_(_UNFINISHED), User.active.is_(True), User.email != "")
        .options(selectinload(Finding.milestone).selectinload(Milestone.campaign),
                 selectinload(Finding.site))
        .order_by(Finding.due_on, Finding.id))
    pairs = list(dict.fromkeys((owner_id, finding) for finding, owner_id in rows))
    missing = {owner_id for owner_id, _f in pairs} - set(by_owner)
    if missing:
        for user in session.scalars(select(User).where(User.id.in_(missing))):
            by_owner[user.id] = Digest(user)
    for owner_id, finding in pairs:
        by_owner[owner_id].findings.append(finding)
    return sorted((d for d in by_owner.values() if d.has_news), key=lambda d: d.owner.email)


# -------------------------------------------------------------------------------- the e-mails


def _count(number: int, singular: str, plural: str) -> str:
    """French counting: 0 and 1 take the singular."""
    return f"{number} {singular if number <= 1 else plural}"


def subject_for(digest: Digest, horizon_days: int = HORIZON_DAYS) -> str:
    """« [audit_tracker] 2 actions en retard, 3 à échéance sous 14 jours »."""
    parts = []
    if digest.late:
        parts.append(_count(len(digest.late), "action", "actions") + " en retard")
    if digest.due_soon:
        noun = "" if digest.late else (" action" if len(digest.due_soon) == 1 else " actions")
        parts.append(f"{len(digest.due_soon)}{noun} à échéance sous {horizon_days} jours")
    if not parts:
        parts.append(_count(len(digest.findings), "constat", "constats") + " à traiter")
    return f"{SUBJECT_PREFIX} " + ", ".join(parts)


def _delay(due_on: date, today: date) -> str:
    if due_on < today:
        return "en retard de " + _count((today - due_on).days, "jour", "jours")
    days = (due_on - today).days
    if days == 0:
        return "aujourd’hui"
    if days == 1:
        return "demain"
    return f"dans {days} jours"


@dataclass(frozen=True)
class Line:
    """One action or finding as the e-mail prints it."""

    title: str
    campaign: str
    site: str
    due: str  # dd/mm/yyyy
    delay: str  # « en retard de 8 jours », « dans 5 jours »
    late: bool
    url: str
    detail: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    due_label: str
    late: bool
    lines: list[Line]


UrlFor = Callable[..., str]


def url_builder(app: Flask) -> UrlFor:
    """Absolute URLs on ``BASE_URL`` (``http://host[:port][/prefix]``), outside any request."""
    base = urlsplit(app.config["BASE_URL"])
    adapter = app.url_map.bind(base.netloc or "localhost", script_name=base.path or "/",
                               url_scheme=base.scheme or "http")

    def build(endpoint: str, anchor: str | None = None, **values) -> str:
        url = adapter.build(endpoint, values, force_external=True)
        return f"{url}#{anchor}" if anchor else url

    return build


def _record_url(app: Flask, url_for: UrlFor, endpoint: str, campaign_id: int, day: date,
                anchor: str, **values) -> str:
    """The record's page when the findings pages are installed, else its day on the calendar."""
    if endpoint in app.view_functions:
        return url_for(endpoint, campaign_id=campaign_id, **values)
    return url_for("calendar.campaign", anchor=anchor, campaign_id=campaign_id,
                   mois=f"{day:%Y-%m}")


def _action_line(app: Flask, url_for: UrlFor, action: Action, today: date) -> Line:
    return Line(
        title=action.title, campaign=action.campaign.name,
        site=action.site.name if action.site else "",
        due=action.due_on.strftime("%d/%m/%Y"), delay=_delay(action.due_on, today),
        late=action.due_on < today, detail=f"Statut : {action.status.label}",
        url=_record_url(app, url_for, "findings.action", action.campaign_id, action.due_on,
                        f"action-{action.id}", action_id=action.id))


def _finding_line(app: Flask, url_for: UrlFor, finding: Finding, today: date) -> Line:
    campaign = finding.milestone.campaign
    assert finding.due_on is not None, "the digest selects findings by their due date"
    return Line(
        title=f"{finding.reference} — {finding.title}", campaign=campaign.name,
        site=finding.site.name if finding.site else "",
        due=finding.due_on.strftime("%d/%m/%Y"), delay=_delay(finding.due_on, today),
        late=finding.due_on < today,
        url=_record_url(app, url_for, "findings.finding", campaign.id, finding.due_on,
                        f"finding-due-{finding.id}", finding_id=finding.id))


def build_message(app: Flask, digest: Digest, today: date,
                  url_for: UrlFor | None = None) -> EmailMessage:
    """The digest as a plain-text e-mail with an HTML alternative, UTF-8 throughout."""
    url_for = url_for or url_builder(app)
    campaign_ids = sorted({a.campaign_id for a in digest.late + digest.due_soon}
                          | {f.milestone.campaign_id for f in digest.findings})
    sections = [
        Section("Actions en retard", "Échéance", True,
                [_action_line(app, url_for, a, today) for a in digest.late]),
        Section(f"À échéance sous {HORIZON_DAYS} jours", "Échéance", False,
                [_action_line(app, url_for, a, today) for a in digest.due_soon]),
        Section("Constats auxquels vos actions répondent, à traiter", "Échéance du constat",
                False, [_finding_line(app, url_for, f, today) for f in digest.findings]),
    ]
    context = {
        "owner": digest.owner,
        "today": today.strftime("%d/%m/%Y"),
        "sections": [s for s in sections if s.lines],
        "calendar_urls": [url_for("calendar.campaign", campaign_id=cid, vue="liste")
                          for cid in campaign_ids],
        "subscription_url": url_for("calendar.subscription"),
    }
    message = EmailMessage()
    message["Subject"] = subject_for(digest)
    message["From"] = app.config["MAIL_FROM"]
    message["To"] = Address(digest.owner.full_name, addr_spec=digest.owner.email)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=_sender_domain(app.config["MAIL_FROM"]))
    # An automatic message: no out-of-office replies back to it (RFC 3834, and Outlook's own).
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(render_template("email/digest.txt", **context))
    message.add_alternative(render_template("email/digest.html", **context), subtype="html")
    return message


def _sender_domain(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "localhost"


# ------------------------------------------------------------------------------------ sending


def send_digests(app: Flask, today: date, dry_run: bool = False) -> SendReport:
    """Build every digest of ``today`` and send them (unless ``dry_run``) through one SMTP
    connection. A recipient the relay refuses is reported and the others still go; a relay that
    cannot be reached or used raises ``ReminderError``."""
    url_for = url_builder(app)
    report = SendReport(planned=[build_message(app, d, today, url_for)
                                 for d in digests(db.session, today)])
    if dry_run or not report.planned:
        return report
    config = app.config
    smtp = _connect(config)
    try:
        for message in report.planned:
            recipient = message["To"].addresses[0].addr_spec
            try:
                smtp.send_message(message)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError,
                    smtplib.SMTPSenderRefused) as error:
                report.refused.append((recipient, _refusal(error)))
            else:
                report.sent.append(recipient)
    except (smtplib.SMTPException, OSError) as error:
        raise ReminderError(
            f"la connexion au serveur SMTP {config['MAIL_SERVER']}:{config['MAIL_PORT']} a été "
            f"perdue ({_reason(error)}) ; {_count(len(report.sent), 'e-mail', 'e-mails')} "
            "envoyé(s) avant l’incident.") from error
    finally:
        _quit(smtp)
    return report


def mail_configured(config) -> bool:
    """Mail goes out only when the school set a real sender (as ``flask check`` asks)."""
    return "@localhost" not in str(config.get("MAIL_FROM") or "@localhost")


def send_message(config, message: EmailMessage) -> None:
    """Send one message through the configured relay (an invitation, a reset link); raises
    ReminderError with the French reason when the relay cannot be reached or refuses it."""
    try:
        smtp = _connect(config)
    except (smtplib.SMTPException, OSError) as error:
        raise ReminderError(f"la connexion au serveur SMTP a échoué ({_reason(error)}).") from error
    try:
        smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        raise ReminderError(f"le serveur SMTP a refusé l’e-mail ({_reason(error)}).") from error
    finally:
        _quit(smtp)


def check_connection(config) -> None:
    """Open and close a connection to the relay as ``send_digests`` would (``flask check``);
    raises ReminderError with the French reason when it fails."""
    try:
        _quit(_connect(config))
    except (smtplib.SMTPException, OSError) as error:
        raise ReminderError(
            f"la connexion au serveur SMTP {config['MAIL_SERVER']}:{config['MAIL_PORT']} a "
            f"échoué ({_reason(error)}).") from error


def _connect(config) -> smtplib.SMTP:
    host, port = config["MAIL_SERVER"], int(config["MAIL_PORT"])
    where = f"{host}:{port}"
    smtp: smtplib.SMTP | None = None
    try:
        if config.get("MAIL_USE_SSL"):
            smtp = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
            if config.get("MAIL_USE_TLS"):
                smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        return smtp
    except smtplib.SMTPAuthenticationError as error:
        _quit(smtp)
        raise ReminderError(f"le serveur SMTP {where} a refusé l’identification de "
                            f"{config['MAIL_USERNAME']} (MAIL_USERNAME, MAIL_PASSWORD).") from error
    except smtplib.SMTPNotSupportedError as error:
        _quit(smtp)
        raise ReminderError(f"le serveur SMTP {where} ne propose pas STARTTLS ou "
                            f"l’identification ({_reason(error)}) : revoyez MAIL_USE_TLS, "
                            "MAIL_USE_SSL et MAIL_USERNAME.") from error
    except ssl.SSLError as error:
        _quit(smtp)
        raise ReminderError(f"la négociation TLS avec {where} a échoué ({_reason(error)}).") \
            from error
    except (smtplib.SMTPException, OSError) as error:
        _quit(smtp)
        raise ReminderError(f"serveur SMTP {where} injoignable ({_reason(error)}) : vérifiez "
                            "MAIL_SERVER et MAIL_PORT.") from error


def _quit(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _reason(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) \
            else str(error.smtp_error)
        return f"{error.smtp_code} {text}"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def _refusal(error: smtplib.SMTPException) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, said = next(iter(error.recipients.values()))
        text = said.decode(errors="replace") if isinstance(said, bytes) else str(said)
        return f"{code} {text}"
    return _reason(error)

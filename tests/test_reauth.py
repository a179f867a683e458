"""Re-authentication before signing (issue 12): the password typed again (and the TOTP code of
an account that has one), unless the person logged in less than five minutes ago."""

from __future__ import annotations

import pyotp
from sqlalchemy import func, select

from audit_tracker.clock import utcnow
from audit_tracker.extensions import db
from audit_tracker.models import Campaign, JournalEntry, Milestone, ReadinessSignOff, User

DIRECTOR = "direction@e2c-var.example"


def _signatures() -> int:
    return db.session.scalar(select(func.count(ReadinessSignOff.id)))


def _sign(client, **extra):
    campaign = db.session.scalar(select(Campaign))
    milestone = db.session.scalars(select(Milestone).order_by(Milestone.starts_on)).first()
    return client.post(f"/campagnes/{campaign.id}/preparation/signatures", data={
        "as_of": milestone.starts_on.isoformat(), "milestone_id": milestone.id,
        "comment": "Prêts.", **extra})


def _age_login(client, seconds: int) -> None:
    """This browser proved who it is ``seconds`` ago."""
    with client.session_transaction() as cookie_session:
        cookie_session["authenticated_at"] = int(utcnow().timestamp()) - seconds


def _code(secret: str) -> str:
    return pyotp.TOTP(secret).at(utcnow())


def test_a_fresh_login_signs_without_typing_the_password_again(client, auth, demo):
    auth.login_demo(demo, "direction")
    page = client.get(f"/campagnes/{db.session.scalar(select(Campaign.id))}"
                      "/preparation/signatures").get_data(as_text=True)
    assert 'data-testid="reauth-spared"' in page and "Votre mot de passe" not in page
    assert _sign(client).status_code == 302
    assert _signatures() == 1


def test_an_old_login_must_type_the_password_and_the_code(client, auth, demo):
    auth.login_demo(demo, "direction")
    _age_login(client, 6 * 60)
    director = demo[DIRECTOR]

    page = client.get(f"/campagnes/{db.session.scalar(select(Campaign.id))}"
                      "/preparation/signatures").get_data(as_text=True)
    assert 'data-testid="reauth"' in page and "Code à six chiffres" in page
    missing = _sign(client)
    assert missing.status_code == 400
    assert "Ressaisissez votre mot de passe pour signer." in missing.get_data(as_text=True)

    wrong = _sign(client, reauth_password="pas le bon mot de passe",
                  reauth_code=_code(director.totp_secret))
    assert wrong.status_code == 400
    page = wrong.get_data(as_text=True)
    assert "Mot de passe incorrect : rien n’a été signé." in page
    assert 'class="form-control is-invalid"' in page  # on the field
    assert _signatures() == 0
    failures = db.session.scalars(select(JournalEntry).where(
        JournalEntry.kind == "reauth_failed")).all()
    user_id = db.session.scalar(select(User.id).where(User.email == DIRECTOR))
    assert [(f.record_id, f.actor_id) for f in failures] == [(str(user_id), user_id)] * 2
    assert "pas le bon" not in " ".join(f.detail for f in failures)

    bad_code = _sign(client, reauth_password=director.password, reauth_code="000000")
    assert "Code incorrect : rien n’a été signé." in bad_code.get_data(as_text=True)
    assert _signatures() == 0

    done = _sign(client, reauth_password=director.password,
                 reauth_code=_code(director.totp_secret))
    assert done.status_code == 302 and _signatures() == 1
    # The re-authentication counts as a fresh one for the next five minutes.
    assert _sign(client).status_code == 302 and _signatures() == 2


def test_without_totp_the_password_alone_confirms(client, auth, demo):
    director = db.session.scalar(select(User).where(User.email == DIRECTOR))
    director.totp_secret = None
    director.school.require_totp = False
    db.session.commit()
    auth.login(DIRECTOR, demo[DIRECTOR].password)
    _age_login(client, 10 * 60)
    page = client.get(f"/campagnes/{db.session.scalar(select(Campaign.id))}"
                      "/preparation/signatures").get_data(as_text=True)
    assert "Code à six chiffres" not in page
    assert _sign(client, reauth_password=demo[DIRECTOR].password).status_code == 302


def test_guessing_the_password_through_the_signing_form_is_braked(client, auth, demo, app):
    auth.login_demo(demo, "direction")
    _age_login(client, 6 * 60)
    for _attempt in range(app.config["LOGIN_MAX_FAILURES"]):
        _sign(client, reauth_password="encore raté")
    braked = _sign(client, reauth_password=demo[DIRECTOR].password,
                   reauth_code=_code(demo[DIRECTOR].totp_secret))
    assert "Trop de tentatives" in braked.get_data(as_text=True)
    assert _signatures() == 0

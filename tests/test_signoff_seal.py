"""Sign-off integrity (issue 12, item 8): an HMAC seal with a key kept outside the database.

Before, only the frozen JSON's SHA-256 was checked, stored beside it: anyone able to write the
database could change the signer, the date, the milestone or the comment (or the JSON and its
hash together) and the page still said « intègre ».
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from audit_tracker.extensions import db
from audit_tracker.models import Campaign, ReadinessSignOff, ReadinessSnapshot, User
from audit_tracker.readiness.signoff import seal_state, sign
from audit_tracker.readiness.snapshots import canonical_json


@pytest.fixture
def signed(app, demo):
    app.config["SIGNING_KEY"] = "clé-de-scellement-de-test"
    campaign = db.session.scalar(select(Campaign).limit(1))
    director = db.session.scalar(select(User).where(User.email == "direction@e2c-var.example"))
    audit = next(m for m in campaign.milestones if m.kind.is_certification_audit)
    signoff = sign(db.session, campaign, director, audit.starts_on, date(2018, 2, 28),
                   comment="Prêts, sous réserve des actions en retard.", milestone=audit)
    db.session.commit()
    return signoff


def _badge(client, signoff):
    page = client.get(f"/campagnes/{signoff.campaign_id}/preparation/signatures/{signoff.id}")
    match = re.search(r'data-testid="seal">([^<]*)<', page.get_data(as_text=True))
    assert match, "no seal badge"
    return match.group(1)


def _reload(signoff_id):
    db.session.expire_all()
    return db.session.get(ReadinessSignOff, signoff_id)


def test_an_untouched_signoff_is_intact(app, client, auth, demo, signed):
    assert seal_state(signed) == "intact"
    auth.login_demo(demo, "direction")
    assert _badge(client, signed) == "intègre"


@pytest.mark.parametrize("column", ["comment", "signed_by_id", "as_of", "milestone_id",
                                    "signed_at"])
def test_a_sealed_field_changed_in_the_database_shows_altered(app, client, auth, demo, signed,
                                                              column):
    other_user = db.session.scalar(select(User).where(User.email == "qualite@e2c-var.example"))
    campaign = db.session.get(Campaign, signed.campaign_id)
    other_milestone = next(m for m in campaign.milestones if m.id != signed.milestone_id)
    value = {
        "comment": "Prêts.",
        "signed_by_id": other_user.id,
        "as_of": signed.as_of + timedelta(days=1),
        "milestone_id": other_milestone.id,
        "signed_at": signed.signed_at - timedelta(days=2),
    }[column]
    db.session.execute(update(ReadinessSignOff).where(ReadinessSignOff.id == signed.id)
                       .values({column: value}))
    db.session.commit()
    assert seal_state(_reload(signed.id)) == "altered"
    auth.login_demo(demo, "direction")
    assert _badge(client, signed).startswith("altéré")


def test_the_frozen_json_rewritten_with_its_hash_shows_altered(app, client, auth, demo,
                                                               signed):
    """The forger recomputes the SHA-256 beside the JSON: only the seal catches it."""
    snapshot = db.session.get(ReadinessSnapshot, signed.snapshot_id)
    criteria = [{**c, "state": "demontrable"} for c in snapshot.criteria]
    digest = hashlib.sha256(canonical_json(snapshot.campaign_id, snapshot.as_of, criteria))
    db.session.execute(update(ReadinessSnapshot).where(ReadinessSnapshot.id == snapshot.id)
                       .values(criteria=criteria, sha256=digest.hexdigest()))
    db.session.commit()
    assert seal_state(_reload(signed.id)) == "altered"
    auth.login_demo(demo, "direction")
    assert _badge(client, signed).startswith("altéré")


def test_the_seal_needs_the_key_kept_outside_the_database(app, signed):
    assert seal_state(signed) == "intact"
    app.config["SIGNING_KEY"] = "une-autre-clé"
    assert seal_state(_reload(signed.id)) == "altered"


def test_without_a_signing_key_one_is_derived_from_the_secret_key_with_a_warning(
        app, demo, caplog):
    app.config["SIGNING_KEY"] = None
    campaign = db.session.scalar(select(Campaign).limit(1))
    director = db.session.scalar(select(User).where(User.email == "direction@e2c-var.example"))
    with caplog.at_level(logging.WARNING):
        signoff = sign(db.session, campaign, director, date(2018, 4, 24), date(2018, 2, 28))
        db.session.commit()
    assert "AUDIT_TRACKER_SIGNING_KEY is not set" in caplog.text
    assert seal_state(_reload(signoff.id)) == "intact"
    app.config["SECRET_KEY"] = "une-autre-clé-secrète"
    app.extensions.pop("signing:derived-key")
    assert seal_state(_reload(signoff.id)) == "altered"


def test_a_signoff_from_before_the_seals_says_so(app, signed):
    db.session.execute(update(ReadinessSignOff).where(ReadinessSignOff.id == signed.id)
                       .values(seal=None))
    db.session.commit()
    assert seal_state(_reload(signed.id)) == "unsealed"


# --- the same for dossier builds ------------------------------------------------------------

@pytest.mark.parametrize("column,value", [("sha256", "0" * 64), ("created_by_id", None),
                                          ("options", {"with_zip": False}), ("size", 1)])
def test_a_dossier_build_changed_in_the_database_shows_altered(app, client, auth, demo, column,
                                                               value):
    from audit_tracker.dossier.builds import build_seal_state, seal_build
    from audit_tracker.models import BuildStatus, DossierBuild

    app.config["SIGNING_KEY"] = "clé-de-scellement-de-test"
    campaign = db.session.scalar(select(Campaign).limit(1))
    director = db.session.scalar(select(User).where(User.email == "direction@e2c-var.example"))
    build = DossierBuild(campaign_id=campaign.id, created_by_id=director.id,
                         options={"with_zip": True}, status=BuildStatus.DONE, progress=100,
                         pdf_key="cle-opaque", sha256="a" * 64, size=1234, page_count=3,
                         piece_count=1)
    db.session.add(build)
    db.session.flush()
    seal_build(build)
    db.session.commit()
    url = f"/campagnes/{campaign.id}/dossier/{build.id}"
    auth.login_demo(demo, "direction")
    assert 'data-testid="seal">intègre<' in client.get(url).get_data(as_text=True)

    db.session.execute(update(DossierBuild).where(DossierBuild.id == build.id)
                       .values({column: value}))
    db.session.commit()
    db.session.expire_all()
    assert build_seal_state(db.session.get(DossierBuild, build.id)) == "altered"
    assert 'data-testid="seal">altéré' in client.get(url).get_data(as_text=True)

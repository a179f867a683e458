"""Time the readiness dashboard and API as a campaign grows; count their SQL statements.

    .venv/bin/python benchmarks/readiness_dashboard.py [--scales 1,10,100] [--repeat 5]
        [--database-url URL]

On the E2C Var demo (both référentiels, 75 criteria), each scale adds ``scale`` × 20 of each:
validated proofs linked to a criterion, pré-audit findings on a criterion, late actions on it,
meetings without minutes, and past daily snapshots. For each scale it requests the dashboard page
and ``GET /api/v1/campaigns/<id>/readiness`` through the WSGI app (a test client: no network),
``--repeat`` times after a warm-up, and reports the median and the number of SQL statements of
one request. The tests assert the statement count is the same at every size; this script shows
what the time does. SQLite in a temporary folder by default; ``--database-url`` for PostgreSQL
(an empty database: its public schema is dropped and recreated).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, event, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audit_tracker import create_app  # noqa: E402
from audit_tracker.clock import local_today  # noqa: E402
from audit_tracker.demo import load_demo  # noqa: E402
from audit_tracker.extensions import db  # noqa: E402
from audit_tracker.models import (  # noqa: E402
    Action,
    ActionStatus,
    ApiToken,
    Campaign,
    Criterion,
    Evidence,
    EvidenceKind,
    EvidenceLink,
    Finding,
    FindingType,
    Meeting,
    MeetingKind,
    MilestoneKind,
    ReadinessSnapshot,
    ReviewStatus,
    User,
)
from audit_tracker.readiness.rules import readiness_of  # noqa: E402
from audit_tracker.readiness.snapshots import DAILY, freeze  # noqa: E402
from audit_tracker.referentiel.service import load_shipped_referentiels  # noqa: E402
from audit_tracker.web import page_cache  # noqa: E402

PER_SCALE = 20


def grow(campaign: Campaign, count: int, offset: int) -> None:
    today = local_today()
    owners = list(db.session.scalars(select(User).where(User.school_id == campaign.school_id)))
    criteria = list(db.session.scalars(select(Criterion).where(
        Criterion.framework_id.in_([f.id for f in campaign.frameworks]))))
    pre_audit = next(m for m in campaign.milestones if m.kind is MilestoneKind.PRE_AUDIT)
    minor = {t.framework_id: t for t in db.session.scalars(
        select(FindingType).where(FindingType.code == "nc_mineure"))}
    snapshot = freeze(readiness_of(db.session, campaign, today), DAILY, today)
    for i in range(offset, offset + count):
        owner, criterion = owners[i % len(owners)], criteria[i % len(criteria)]
        proof = Evidence(school_id=campaign.school_id, owner=owner, kind=EvidenceKind.LINK,
                         title=f"Lien {i}", url=f"https://exemple.fr/{i}",
                         status=ReviewStatus.VALIDATED, valid_until=today + timedelta(days=i))
        finding = Finding(milestone=pre_audit, framework_id=criterion.framework_id,
                          finding_type=minor[criterion.framework_id], number=i + 1,
                          title=f"Constat {i}", created_by=owner, criteria=[criterion])
        db.session.add_all([
            proof, finding,
            EvidenceLink(evidence=proof, criterion=criterion, created_by=owner),
            Action(campaign=campaign, title=f"Action {i}", owner=owner, created_by=owner,
                   due_on=today - timedelta(days=1 + i % 30), status=ActionStatus.TODO,
                   findings=[finding], criteria=[criterion]),
            Meeting(campaign=campaign, kind=MeetingKind.OTHER, title=f"Réunion {i}",
                    held_on=today - timedelta(days=1 + i % 60)),
        ])
        if i % 2 == 0:  # one past day's snapshot for every other item
            db.session.add(ReadinessSnapshot(
                campaign_id=campaign.id, kind=DAILY, as_of=snapshot.as_of,
                counts=snapshot.counts, criteria=snapshot.criteria, sha256=snapshot.sha256,
                taken_on=today - timedelta(days=1 + i // 2)))
    db.session.commit()


def measure(app, client, url: str, repeat: int, headers=None,
            computed: bool = True) -> tuple[float, int]:
    """Median time and statements of ``url``; ``computed`` empties the page cache before each
    request (the dashboard as computed), otherwise it is served from the cache."""
    statements = 0

    def count(*_args):
        nonlocal statements
        statements += 1

    def get():
        if computed:
            page_cache.clear(app)
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.status_code

    get()  # warm-up (and today's snapshot)
    event.listen(db.engine, "before_cursor_execute", count)
    get()
    event.remove(db.engine, "before_cursor_execute", count)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        get()
        times.append(time.perf_counter() - start)
    return statistics.median(times), statements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10,100")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="readiness-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    if args.database_url:
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                      "INSTANCE_PATH": str(workdir / "instance"), "WTF_CSRF_ENABLED": False})
    print(f"database: {url.split('://')[0]}, repeat {args.repeat}, median seconds per request")
    print(f"{'scale':>6} {'items':>7} {'dashboard s':>12} {'statements':>10} {'served s':>9} "
          f"{'statements':>10} {'api s':>8} {'statements':>10}")
    with app.app_context():
        db.create_all()
        load_shipped_referentiels(db.session)
        accounts = {a.email: a for a in load_demo(db.session, today=local_today())}
        db.session.commit()
        # The quality lead reads the same dashboard; the director's login asks a TOTP code.
        director = accounts["qualite@e2c-var.example"]
        user = db.session.scalar(select(User).where(User.email == director.email))
        token, clear = ApiToken.issue(user)
        db.session.add(token)
        db.session.commit()
        campaign = db.session.scalar(select(Campaign))
        client = app.test_client()
        client.post("/connexion", data={"email": director.email, "password": director.password})
        done = 0
        for scale in (int(s) for s in args.scales.split(",")):
            wanted = scale * PER_SCALE
            grow(campaign, wanted - done, done)
            done = wanted
            dashboard = f"/campagnes/{campaign.id}/preparation"
            page = measure(app, client, dashboard, args.repeat)
            served = measure(app, client, dashboard, args.repeat, computed=False)
            api = measure(app, client, f"/api/v1/campaigns/{campaign.id}/readiness",
                          args.repeat, {"Authorization": f"Bearer {clear}"})
            print(f"{scale:>6} {wanted:>7} {page[0]:>12.3f} {page[1]:>10} {served[0]:>9.4f} "
                  f"{served[1]:>10} {api[0]:>8.3f} {api[1]:>10}", flush=True)


if __name__ == "__main__":
    main()

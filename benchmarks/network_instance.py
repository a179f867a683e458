"""Fill an instance with a network of schools, for load and scale measurements.

By default the Réseau E2C France's size: 56 schools, 159 sites, and per school a campaign on both
référentiels (E2C label and Qualiopi) with its milestones, 400 proofs (a third PDFs) each linked
to a criterion (a third validated, a third to review, a third drafts), 60 findings, 120
actions, 24 months of key figures per site and 30 accounts. It writes through the
application's services (proofs are received, sniffed, hashed and stored like uploads; findings
get their computed deadlines), into the database and storage the ``AUDIT_TRACKER_*`` settings
name: PostgreSQL with local or S3 storage for a real measurement.

    AUDIT_TRACKER_DATABASE_URL=postgresql://… .venv/bin/flask --app wsgi setup
    AUDIT_TRACKER_DATABASE_URL=postgresql://… .venv/bin/python benchmarks/network_instance.py \\
        [--schools 56] [--sites 159] [--proofs 400] [--findings 60] [--actions 120] \\
        [--months 24] [--users 30]

Every account's password is printed once at the end (the same for all: a benchmark instance).
"""

from __future__ import annotations

import argparse
import io
import random
import secrets
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from audit_tracker import create_app  # noqa: E402
from audit_tracker.clock import local_today  # noqa: E402
from audit_tracker.evidence import service as evidence  # noqa: E402
from audit_tracker.extensions import db  # noqa: E402
from audit_tracker.findings import service as findings  # noqa: E402
from audit_tracker.models import (  # noqa: E402
    Campaign,
    Criterion,
    EvidenceKind,
    IndicatorEntry,
    Milestone,
    MilestoneKind,
    ReviewStatus,
    Role,
    School,
    SchoolReferentiel,
    Site,
    User,
)
from audit_tracker.referentiel.importer import latest_framework  # noqa: E402
from audit_tracker.storage import EVIDENCE, storage_for, upload_tmp_dir  # noqa: E402

ROLES = [Role.DIRECTOR, Role.QUALITY_LEAD, Role.QUALITY_LEAD] + [Role.SITE_MANAGER] * 6
FINDING_TYPES = ["point_fort", "piste_progres", "point_sensible", "nc_mineure", "nc_majeure"]


def small_pdf(text: str) -> bytes:
    """A valid one-page PDF 1.4 saying ``text``, its cross-reference table computed."""
    content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def spread(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` counts differing by at most one (159 sites over 56)."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def make_school(session, n: int, n_sites: int, args, frameworks, criteria, password_hash: str,
                today: date, rng: random.Random) -> None:
    school = School(name=f"École de la 2e Chance n° {n:02d}", short_name=f"E2C {n:02d}",
                    city=f"Ville {n:02d}")
    school.sites = [Site(code=f"S{k + 1}", name=f"Site {k + 1} de l’E2C {n:02d}")
                    for k in range(n_sites)]
    school.referentiels = [SchoolReferentiel(code=code)
                           for code in sorted({f.code for f in frameworks})]
    session.add(school)
    users = []
    for k in range(args.users):
        role = ROLES[k % len(ROLES)] if k else Role.DIRECTOR
        site = school.sites[k % n_sites] if role is Role.SITE_MANAGER else None
        user = User(email=f"compte{k:02d}@e2c-{n:02d}.example", full_name=f"Compte {k:02d}",
                    role=role, school=school, site=site, password_hash=password_hash)
        session.add(user)
        users.append(user)
    audit_day = today + timedelta(days=20 + 7 * n)  # one school audited each week
    campaign = Campaign(school=school, name=f"Labellisation {audit_day.year}",
                        frameworks=list(frameworks), categories=["AF"])
    campaign.milestones = [
        Milestone(kind=MilestoneKind.ADVISORY_VISIT, title="Visite conseil",
                  starts_on=today - timedelta(days=120)),
        Milestone(kind=MilestoneKind.PRE_AUDIT, title="Pré-audit",
                  starts_on=today - timedelta(days=40)),
        Milestone(kind=MilestoneKind.INITIAL_AUDIT, title="Audit AFNOR Certification",
                  starts_on=audit_day, ends_on=audit_day + timedelta(days=2)),
        Milestone(kind=MilestoneKind.NATIONAL_COMMISSION, title="Commission",
                  starts_on=audit_day + timedelta(days=23)),
    ]
    session.add(campaign)
    session.flush()
    quality = next(u for u in users if u.role is Role.QUALITY_LEAD)
    store, spool = storage_for(session.info["app"], EVIDENCE), session.info["spool"]
    for k in range(args.proofs):
        pdf = k % 3 == 0
        name = f"preuve-{k:03d}.{'pdf' if pdf else 'txt'}"
        content = (small_pdf(f"Preuve {k} de l'E2C {n:02d}") if pdf else
                   f"Preuve {k} de l’E2C {n:02d} : compte rendu, {secrets.token_hex(8)}\n"
                   .encode() * 20)
        upload = evidence.receive_file(io.BytesIO(content), name, spool, 10 * 1024 * 1024)
        proof = evidence.create_evidence(
            session, store, school=school, author=quality, upload=upload,
            fields=evidence.EvidenceFields(title=f"Preuve {k:03d}", kind=EvidenceKind.FILE,
                                           valid_until=today + timedelta(days=rng.randint(-30,
                                                                                          400))))
        evidence.link_criterion(session, proof, rng.choice(criteria[frameworks[k % 2].id]), "",
                                quality)
        if k % 3 != 2:  # two proofs in three sent for review, most of those validated
            evidence.submit_for_review(session, proof, quality)
            if k % 3 == 0:
                evidence.review(session, proof, quality, ReviewStatus.VALIDATED)
        if k % 50 == 49:
            session.commit()
    pre_audit = campaign.milestones[1]
    created = []
    for k in range(args.findings):
        created.append(findings.create_finding(
            session, pre_audit, quality, findings.FindingInput(
                framework=frameworks[0], type_code=FINDING_TYPES[k % len(FINDING_TYPES)],
                title=f"Constat {k:02d}", criteria=[rng.choice(criteria[frameworks[0].id])])))
    for k in range(args.actions):
        findings.create_action(session, campaign, quality, findings.ActionInput(
            title=f"Action {k:03d}", owner=rng.choice(users),
            due_on=today + timedelta(days=rng.randint(-20, 200)),
            findings=[created[k % len(created)]] if created else []))
    first_month = date(today.year, today.month, 1)
    for site in school.sites:
        for m in range(args.months):
            month_index = first_month.year * 12 + first_month.month - 1 - m
            entries = rng.randint(4, 14)
            session.add(IndicatorEntry(
                school_id=school.id, site_id=site.id,
                period=date(month_index // 12, month_index % 12 + 1, 1),
                entries=entries, from_qpv=rng.randint(0, entries),
                without_diploma=rng.randint(entries // 2, entries),
                host_companies=rng.randint(0, 6), exits=rng.randint(3, 10),
                exits_training=rng.randint(0, 1), exits_employment=rng.randint(0, 1),
                exits_work_study=rng.randint(0, 1)))
    session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name, default in (("schools", 56), ("sites", 159), ("proofs", 400), ("findings", 60),
                          ("actions", 120), ("months", 24), ("users", 30)):
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    if args.sites < args.schools:
        parser.error("--sites must be at least --schools")
    app = create_app()
    rng = random.Random(args.seed)  # noqa: S311 - reproducible data, not secrets
    started = time.perf_counter()
    with app.app_context():
        session = db.session
        session.info.update(app=app, spool=upload_tmp_dir(app))
        frameworks = [latest_framework(session, code) for code in ("e2c-label", "qualiopi-v9")]
        if not all(frameworks):
            raise SystemExit("Référentiels absents : lancez d’abord « flask setup ».")
        criteria = {f.id: list(session.scalars(
            db.select(Criterion).where(Criterion.framework_id == f.id))) for f in frameworks}
        password = secrets.token_urlsafe(12)
        probe = User(email="", full_name="", role=Role.AUDITOR)
        probe.set_password(password)
        today = local_today()
        for n, n_sites in enumerate(spread(args.sites, args.schools), start=1):
            make_school(session, n, n_sites, args, frameworks, criteria, probe.password_hash,
                        today, rng)
            print(f"école {n}/{args.schools} : {time.perf_counter() - started:.0f} s",
                  flush=True)
    print(f"{args.schools} écoles, {args.sites} sites en {time.perf_counter() - started:.0f} s. "
          f"Comptes compteNN@e2c-NN.example, mot de passe : {password}")


if __name__ == "__main__":
    main()

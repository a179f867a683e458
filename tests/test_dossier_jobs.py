"""Dossier builds in the background: the in-process runner end to end, the RQ runner on a real
Redis, failures that keep nothing, progress writes, and builds lost with their process."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import subprocess
import sys
import time
import uuid
import zipfile
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import event, select

from audit_tracker import jobs
from audit_tracker.dossier import builds
from audit_tracker.dossier.builds import DOSSIER_BUILD
from audit_tracker.dossier.options import DossierOptions
from audit_tracker.extensions import db
from audit_tracker.models import BuildStatus, Campaign, DossierBuild, User
from audit_tracker.models.base import utcnow
from audit_tracker.readiness.rules import default_reference_date
from audit_tracker.storage import DOSSIERS, storage_for, upload_tmp_dir

REDIS_URL = os.environ.get("AUDIT_TRACKER_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(
    not REDIS_URL,
    reason="Redis not selected: set AUDIT_TRACKER_TEST_REDIS_URL, e.g. "
    "redis://127.0.0.1:6379/5 (.ci/run does)",
)

# Waiting for a background build: a bounded loop reading the row, never a measured duration.
POLL_SECONDS = 0.1
POLL_ATTEMPTS = 3000


def wait_until_finished(build_id: int) -> DossierBuild:
    """Poll the database until the build is done or failed (or give up, failing the test)."""
    for _attempt in range(POLL_ATTEMPTS):
        db.session.rollback()  # a fresh read, not the identity map's copy
        build = db.session.get(DossierBuild, build_id)
        if build.status.finished:
            return build
        time.sleep(POLL_SECONDS)
    pytest.fail(f"build {build_id} still {build.status} after {POLL_ATTEMPTS} polls")


def stored_bytes(app, key: str) -> bytes:
    return b"".join(storage_for(app, DOSSIERS).open_chunks(key))


def demo_campaign() -> Campaign:
    return db.session.scalar(select(Campaign).limit(1))


def user(email_local: str) -> User:
    return db.session.scalar(select(User).where(User.email == f"{email_local}@e2c-var.example"))


def default_options(campaign: Campaign, **changes) -> DossierOptions:
    from audit_tracker.clock import local_today

    changes.setdefault("as_of", default_reference_date(campaign, local_today()))
    return DossierOptions(**changes)


def queued_row(campaign: Campaign, **fields) -> DossierBuild:
    """A build row as a runner would have left it (for the recovery tests)."""
    fields.setdefault("options", default_options(campaign).to_json())
    build = DossierBuild(campaign_id=campaign.id, **fields)
    db.session.add(build)
    db.session.commit()
    return build


@pytest.fixture
def linked_proof(demo_today, make_evidence):
    """A real PDF proof, sent for review and linked to the campaign's first criterion: one
    pièce, merged into the annexes."""
    from audit_tracker.evidence.service import link_criterion, submit_for_review

    quality_lead = user("qualite")
    criterion = demo_campaign().frameworks[0].criteria[0]
    proof = make_evidence(quality_lead, fixture="preuve.pdf", title="Programme de formation")
    link_criterion(db.session, proof, criterion, "Programme remis à chaque stagiaire", quality_lead)
    submit_for_review(db.session, proof, quality_lead)
    db.session.commit()
    return proof


@pytest.fixture
def runner_stopped(app):
    """Stop the app's thread pool at the end, so no build outlives its test database."""
    yield
    jobs.shutdown(app)


# ---------------------------------------------------------------------------- in-process runner


def test_inprocess_build_runs_in_the_background_and_records_the_files(app, linked_proof,
                                                                      runner_stopped):
    campaign = demo_campaign()
    director = user("direction")
    build = builds.request_build(db.session, app, campaign, default_options(campaign), director)
    assert build.status in {BuildStatus.QUEUED, BuildStatus.RUNNING, BuildStatus.DONE}
    assert build.runner.startswith(f"inprocess:{socket.gethostname()}:{os.getpid()}:")

    build = wait_until_finished(build.id)

    assert build.status is BuildStatus.DONE, build.error
    assert build.progress == 100 and build.error == ""
    assert build.created_by_id == director.id
    assert build.created_at <= build.started_at <= build.finished_at
    pdf = stored_bytes(app, build.pdf_key)
    assert hashlib.sha256(pdf).hexdigest() == build.sha256
    assert len(pdf) == build.size
    assert len(PdfReader(io.BytesIO(pdf)).pages) == build.page_count > 1
    assert build.piece_count >= 1
    # Sealed with the key kept outside the database (issue 12, item 8).
    assert builds.build_seal_state(build) == "intact"
    archive = stored_bytes(app, build.zip_key)
    assert hashlib.sha256(archive).hexdigest() == build.zip_sha256
    assert len(archive) == build.zip_size
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        assert bundle.testzip() is None
        assert any(name.endswith("manifest.csv") for name in bundle.namelist())
    # The outputs live apart from the proofs: ``flask evidence verify`` sees no orphan.
    from audit_tracker.evidence.service import verify
    from audit_tracker.storage import EVIDENCE, storage_for

    assert verify(db.session, storage_for(app, EVIDENCE)).orphans == []
    # Nothing left in the work folder.
    assert not list(upload_tmp_dir(app).glob(f"dossier-{build.id}-*"))


def test_a_build_without_zip_stores_only_the_pdf(app, demo_today, runner_stopped):
    campaign = demo_campaign()
    options = default_options(campaign, with_annexes=False)
    build = builds.request_build(db.session, app, campaign, options, user("qualite"),
                                 with_zip=False)
    build = wait_until_finished(build.id)
    assert build.status is BuildStatus.DONE, build.error
    assert build.zip_key is None and build.zip_sha256 is None
    assert build.options["with_annexes"] is False and build.options["with_zip"] is False
    assert stored_bytes(app, build.pdf_key).startswith(b"%PDF")


def test_progress_is_written_to_the_row_at_most_every_two_percent(app, demo_today):
    campaign = demo_campaign()
    build = queued_row(campaign, status=BuildStatus.RUNNING)
    commits = []
    session = db.session()

    def record(_session):
        commits.append(build.progress)

    event.listen(session, "after_commit", record)
    try:
        progress = jobs.Progress(session, build)
        for percent in range(0, 101):
            progress(percent, "Critères")
    finally:
        event.remove(session, "after_commit", record)
    db.session.rollback()
    row = db.session.get(DossierBuild, build.id)
    # 100 % is the final commit's, once the files are stored; the callback stops at 99.
    assert row.progress == 98 and row.step == "Critères"
    assert commits == sorted(commits) and len(commits) <= 50
    assert all(b - a >= 2 for a, b in zip(commits, commits[1:], strict=False))


def test_builder_refusal_fails_the_build_with_the_french_reasons(app, demo_today):
    """Options stored by an older version, or damaged: the builder's reader refuses them."""
    campaign = demo_campaign()
    build = queued_row(campaign, status=BuildStatus.QUEUED,
                       options={"framework_ids": ["qualiopi"], "as_of": "10/04/2018"})
    build = jobs.execute(db.session(), app, DOSSIER_BUILD, build.id)
    assert build.status is BuildStatus.FAILED
    assert build.error.startswith("Options du dossier invalides")
    assert "framework_ids" in build.error and "10/04/2018" in build.error
    assert build.pdf_key is None and build.finished_at is not None
    assert list(storage_for(app, DOSSIERS).keys()) == []
    assert not list(upload_tmp_dir(app).glob(f"dossier-{build.id}-*"))


def test_storage_failure_fails_the_build_and_keeps_nothing(s3_app, demo_today):
    """The PDF is built but the bucket for dossiers does not exist: failed, nothing kept."""
    app = s3_app
    app.config["DOSSIER_S3_PREFIX"] = "dossiers/"
    app.config["S3_BUCKET"] = f"absent-{uuid.uuid4().hex[:12]}"  # for the dossiers only:
    app.extensions.pop("storage:dossiers", None)  # the proofs' backend is already built
    campaign = demo_campaign()
    build = queued_row(campaign, status=BuildStatus.QUEUED)
    build = jobs.execute(db.session(), app, DOSSIER_BUILD, build.id)
    assert build.status is BuildStatus.FAILED
    assert "n’a pas pu être enregistré dans le stockage" in build.error
    assert "Rien n’a été conservé" in build.error
    assert build.pdf_key is None and build.sha256 is None
    assert not list(upload_tmp_dir(app).glob(f"dossier-{build.id}-*"))


def test_a_build_is_run_once_only(app, demo_today):
    """A second delivery of the same job (an RQ retry) finds it taken and does nothing."""
    campaign = demo_campaign()
    build = queued_row(campaign, status=BuildStatus.FAILED, error="Abandonnée.")
    again = jobs.execute(db.session(), app, DOSSIER_BUILD, build.id)
    assert again.status is BuildStatus.FAILED and again.error == "Abandonnée."
    assert again.started_at is None


# ------------------------------------------------------------------------------------ recovery


def test_build_of_an_earlier_life_of_this_process_is_failed_when_read(app, demo_today):
    campaign = demo_campaign()
    lost = queued_row(campaign, status=BuildStatus.RUNNING, heartbeat_at=utcnow(),
                      runner=f"inprocess:{socket.gethostname()}:{os.getpid()}:0ldn0nce")
    alive = queued_row(campaign, status=BuildStatus.QUEUED, heartbeat_at=utcnow(),
                       runner=jobs.inprocess_runner_id())
    shown = builds.builds_of(db.session, campaign, app)
    by_id = {b.id: b for b in shown}
    assert by_id[lost.id].status is BuildStatus.FAILED
    assert "redémarré" in by_id[lost.id].error and "Relancez" in by_id[lost.id].error
    assert by_id[alive.id].status is BuildStatus.QUEUED


def test_build_of_a_dead_process_is_failed(app, demo_today):
    finished = subprocess.run(  # noqa: S603 - our own interpreter, a fixed script
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True, text=True, check=True,
    )
    dead_pid = int(finished.stdout)
    campaign = demo_campaign()
    build = queued_row(campaign, status=BuildStatus.RUNNING, heartbeat_at=utcnow(),
                       runner=f"inprocess:{socket.gethostname()}:{dead_pid}:abcdef")
    assert jobs.recover_lost(db.session, app) == 1
    db.session.rollback()
    assert db.session.get(DossierBuild, build.id).status is BuildStatus.FAILED


def test_silent_build_on_another_machine_is_failed_after_the_limit(app, demo_today):
    campaign = demo_campaign()
    quiet = queued_row(campaign, status=BuildStatus.RUNNING, runner="inprocess:autre-hote:1:ab",
                       heartbeat_at=utcnow() - jobs.STALE_RUNNING - timedelta(minutes=1))
    recent = queued_row(campaign, status=BuildStatus.RUNNING, runner="inprocess:autre-hote:2:cd",
                        heartbeat_at=utcnow() - timedelta(minutes=5))
    assert jobs.recover_lost(db.session, app) == 1
    db.session.rollback()
    quiet, recent = db.session.get(DossierBuild, quiet.id), db.session.get(DossierBuild, recent.id)
    assert quiet.status is BuildStatus.FAILED and "30 minutes" in quiet.error
    assert recent.status is BuildStatus.RUNNING


def test_a_build_recovered_while_queued_is_never_started(app, demo_today):
    campaign = demo_campaign()
    build = queued_row(campaign, status=BuildStatus.QUEUED, heartbeat_at=utcnow(),
                       runner=f"inprocess:{socket.gethostname()}:{os.getpid()}:0ldn0nce")
    jobs.recover_lost(db.session, app)
    after = jobs.execute(db.session(), app, DOSSIER_BUILD, build.id)
    assert after.status is BuildStatus.FAILED and after.started_at is None


# -------------------------------------------------------------------------------------- RQ


def test_rq_without_redis_url_refuses_in_french_and_keeps_nothing_queued(app, demo_today):
    app.config.update(DOSSIER_QUEUE="rq", REDIS_URL=None)
    campaign = demo_campaign()
    with pytest.raises(jobs.JobError, match="REDIS_URL"):
        builds.request_build(db.session, app, campaign, default_options(campaign),
                             user("direction"))
    db.session.rollback()
    build = db.session.scalar(select(DossierBuild))
    assert build.status is BuildStatus.FAILED and "file d’attente" in build.error


def test_rq_with_redis_unreachable_fails_the_build_with_a_message(app, demo_today):
    app.config.update(DOSSIER_QUEUE="rq", REDIS_URL="redis://127.0.0.1:1/0")
    campaign = demo_campaign()
    with pytest.raises(jobs.JobError, match="Réessayez plus tard"):
        builds.request_build(db.session, app, campaign, default_options(campaign),
                             user("direction"))
    db.session.rollback()
    assert db.session.scalar(select(DossierBuild)).status is BuildStatus.FAILED


@pytest.fixture
def rq_app(app, monkeypatch):
    """``app`` on the RQ runner, a queue of its own on the test Redis; the worker, run in this
    process, builds its own application from the environment, as a real worker does."""
    from redis import Redis

    queue_name = f"dossier-test-{uuid.uuid4().hex[:12]}"
    app.config.update(DOSSIER_QUEUE="rq", REDIS_URL=REDIS_URL, DOSSIER_RQ_QUEUE=queue_name)
    for key, value in {
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "INSTANCE_PATH": app.instance_path,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "DOSSIER_RQ_QUEUE": queue_name,
    }.items():
        monkeypatch.setenv(f"AUDIT_TRACKER_{key}", value)
    yield app
    # Leave the shared Redis database as found: this test's jobs, results and queue keys.
    connection = Redis.from_url(REDIS_URL)
    db.session.rollback()
    runners = db.session.scalars(select(DossierBuild.runner).where(
        DossierBuild.runner.like("rq:%")))
    for job_id in (runner.removeprefix("rq:") for runner in runners):
        connection.delete(f"rq:job:{job_id}", f"rq:results:{job_id}",
                          f"rq:job:{job_id}:dependents", f"rq:job:{job_id}:dependencies")
    for key in connection.scan_iter(match=f"*{queue_name}*"):
        connection.delete(key)
    connection.srem("rq:queues", f"rq:queue:{queue_name}")
    connection.close()


@needs_redis
def test_rq_worker_builds_the_dossier(rq_app, linked_proof):
    from rq import SimpleWorker

    app = rq_app
    campaign = demo_campaign()
    build = builds.request_build(db.session, app, campaign, default_options(campaign),
                             user("direction"))
    assert build.status is BuildStatus.QUEUED and build.runner.startswith("rq:dossier-")
    queue = jobs.rq_queue(app, DOSSIER_BUILD)
    assert queue.count == 1

    connection = jobs.redis_connection(app, DOSSIER_BUILD)
    worked = SimpleWorker([queue], connection=connection).work(burst=True)

    assert worked
    build = wait_until_finished(build.id)
    assert build.status is BuildStatus.DONE, build.error
    pdf = stored_bytes(app, build.pdf_key)
    assert hashlib.sha256(pdf).hexdigest() == build.sha256
    assert len(PdfReader(io.BytesIO(pdf)).pages) == build.page_count
    assert jobs.lost_reason(build, app) is None


@needs_redis
def test_rq_job_that_vanished_fails_its_build_when_read(rq_app, demo_today):
    from rq.job import Job

    app = rq_app
    campaign = demo_campaign()
    build = builds.request_build(db.session, app, campaign, default_options(campaign),
                             user("direction"))
    queued = builds.builds_of(db.session, campaign, app)
    assert queued[0].status is BuildStatus.QUEUED  # the job is in the queue: still waiting
    connection = jobs.redis_connection(app, DOSSIER_BUILD)
    Job.fetch(build.runner.removeprefix("rq:"), connection=connection).delete()
    build.created_at = utcnow() - jobs.RQ_GRACE - timedelta(seconds=5)
    db.session.commit()
    [after] = builds.builds_of(db.session, campaign, app)
    assert after.status is BuildStatus.FAILED
    assert "disparu de la file d’attente" in after.error and "introuvable" in after.error

"""Build a large evidence dossier through the product's own path; time it and watch the memory.

    .venv/bin/python benchmarks/dossier_build.py [--pieces 2000] [--pdfs 150,300]
        [--pages-per-pdf 5] [--zip] [--workdir DIR] [--keep]

For each PDF count (default 150 then 300) it makes a school with a campaign on both shipped
référentiels and ``--pieces`` proofs linked to their criteria (one or two each): that many PDFs
of ``--pages-per-pdf`` pages each (every page holds its own random, incompressible 200×200 image,
about 120 kB, so merged pages weigh something), and the rest links, paper proofs, CSV files and
a few PNG images. Files go through ``receive_file`` and ``create_evidence`` into local storage,
as uploads do. Then ``build_dossier`` builds the PDF (and the ZIP with ``--zip``).

In the same run, for comparison: reportlab alone writing as many plain pages as the dossier's
generated part, and pypdf alone (``PdfWriter.append`` then ``write``) merging the same PDF files.

Memory, per step: the peak resident set size (Linux ``VmHWM``, reset through
``/proc/self/clear_refs`` before each step) and its growth over the resident size just before.
If merged pages are streamed, the build's peak does not grow from 150 to 300 PDFs, while pypdf's
``PdfWriter`` holds every merged page until it writes. Nothing here is run by the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
MB = 1024 * 1024


# ------------------------------------------------------------------------------ memory


def _status(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def reset_peak() -> int:
    """Reset the kernel's peak-RSS mark; returns the RSS now (bytes)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    return _status("VmRSS") or 0


def peak() -> int:
    import resource

    return _status("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Step:
    """Time and peak RSS of one step."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> Step:
        import gc

        gc.collect()
        self.rss_before = reset_peak()
        self.start = time.perf_counter()
        self.cpu_start = time.process_time()
        return self

    def __exit__(self, *_exc) -> None:
        self.seconds = time.perf_counter() - self.start
        # CPU time too: on a machine shared with other runs, wall time says more about them.
        self.cpu = time.process_time() - self.cpu_start
        self.peak = peak()
        self.growth = self.peak - self.rss_before


# ------------------------------------------------------------------------------ data


def pdf_bytes(pages: int, label: str, rng: random.Random) -> bytes:
    """A PDF whose every page has a line of text and its own random image (incompressible)."""
    from PIL import Image
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    for number in range(1, pages + 1):
        canvas.setFont("Helvetica", 12)
        canvas.drawString(72, 780, f"{label} - page {number}/{pages}")
        image = Image.frombytes("RGB", (200, 200), rng.randbytes(200 * 200 * 3))
        canvas.drawImage(ImageReader(image), 72, 450, width=300, height=300)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def png_bytes(rng: random.Random) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.frombytes("RGB", (120, 90), rng.randbytes(120 * 90 * 3)).save(buffer, "PNG")
    return buffer.getvalue()


def make_school(app, index: int, pieces: int, pdfs: int, pages_per_pdf: int, sources: Path):
    """A school, its campaign on both référentiels, and ``pieces`` linked proofs."""
    from sqlalchemy import select

    from audit_tracker.evidence.service import EvidenceFields, create_evidence, receive_file
    from audit_tracker.extensions import db
    from audit_tracker.models import (
        Campaign,
        Criterion,
        EvidenceKind,
        EvidenceLink,
        Framework,
        Milestone,
        MilestoneKind,
        ReviewStatus,
        Role,
        School,
        Site,
        User,
    )
    from audit_tracker.storage import EVIDENCE, storage_for, upload_tmp_dir

    rng = random.Random(index)  # noqa: S311 - reproducible test data, not secrets
    school = School(name=f"École de la 2e Chance n°{index}", short_name=f"E2C-bench-{index}")
    school.sites = [Site(code=f"site-{i}", name=f"Site {i}", opened_on=date(2017, 3, 13))
                    for i in range(4)]
    user = User(email=f"qualite{index}@bench.example", full_name="Responsable qualité",
                role=Role.QUALITY_LEAD, school=school)
    user.set_password("motdepasse-bench")
    frameworks = list(db.session.scalars(select(Framework).order_by(Framework.code)))
    campaign = Campaign(school=school, name="Labellisation 2018", frameworks=frameworks)
    campaign.milestones = [Milestone(kind=MilestoneKind.INITIAL_AUDIT, title="Audit AFNOR",
                                     starts_on=date(2018, 4, 24), ends_on=date(2018, 4, 26))]
    db.session.add_all([school, user, campaign])
    db.session.commit()
    criteria = list(db.session.scalars(select(Criterion).where(
        Criterion.framework_id.in_([f.id for f in frameworks]))))
    storage, tmp = storage_for(app, EVIDENCE), upload_tmp_dir(app)
    pdf_files = []
    for number in range(pieces):
        title = f"Pièce de test n°{number} – compte rendu & annexe"
        upload = None
        fields = EvidenceFields(title=title, site=school.sites[number % 4]
                                if number % 3 == 0 else None)
        if number < pdfs:
            data = pdf_bytes(pages_per_pdf, title.replace("–", "-"), rng)
            path = sources / f"school{index}-{number}.pdf"
            path.write_bytes(data)
            pdf_files.append(path)
            upload = receive_file(io.BytesIO(data), f"preuve-{number}.pdf", tmp, 50 * MB)
        elif number % 5 == 0:
            fields.kind, fields.url = EvidenceKind.LINK, f"https://bench.example/{number}"
        elif number % 5 == 1:
            fields.kind = EvidenceKind.PAPER
            fields.paper_location = "Bureau de direction, classeur « Preuves »"
        elif number % 5 == 2:
            upload = receive_file(io.BytesIO(png_bytes(rng)), f"photo-{number}.png", tmp, 50 * MB)
        else:
            csv = "nom;présent\n" + "".join(f"stagiaire {i};oui\n" for i in range(20))
            upload = receive_file(io.BytesIO(csv.encode()), f"emargement-{number}.csv", tmp,
                                  50 * MB)
        evidence = create_evidence(db.session, storage, school=school, author=user,
                                   fields=fields, upload=upload)
        # Review states are set directly: the review workflow is not what is measured.
        evidence.status = ReviewStatus.VALIDATED if number % 4 else ReviewStatus.TO_REVIEW
        for criterion in rng.sample(criteria, 1 + (number % 2)):
            db.session.add(EvidenceLink(evidence=evidence, criterion=criterion, note="",
                                        created_by=user))
        if number % 100 == 99:
            db.session.commit()
    db.session.commit()
    return campaign, pdf_files


# ------------------------------------------------------------------------------ baselines


def reportlab_plain(path: Path, pages: int) -> None:
    """reportlab alone: ``pages`` plain pages with a header, two lines and a footer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(str(path), pagesize=A4)
    for number in range(1, pages + 1):
        canvas.setFont("Helvetica", 9)
        canvas.drawString(56, 800, "École de la 2e Chance")
        canvas.setFont("Helvetica", 12)
        canvas.drawString(56, 700, f"Page {number}")
        canvas.drawString(56, 680, "Texte ordinaire de la page.")
        canvas.drawRightString(540, 30, f"page {number} / {pages}")
        canvas.showPage()
    canvas.save()


def floor(path: Path, separators: Path, pieces: int, criteria: int, links: int) -> None:
    """The least a dossier of this size costs in reportlab: the same pièce tables (``links``
    rows of nine cells over ``criteria`` tables, each row's cells short paragraphs) laid out
    in one platypus pass, and one plain canvas page per pièce for the separators."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table

    cell = ParagraphStyle("cell", fontName="Helvetica", fontSize=7, leading=8.6)
    head = ParagraphStyle("head", parent=cell, fontName="Helvetica-Bold")
    story = []
    per = max(1, links // max(1, criteria))
    for number in range(criteria):
        story.append(Paragraph(f"Critère {number} – intitulé du critère", head))
        rows = [[Paragraph(h, head) for h in ("N°", "Titre", "Nature", "Période",
                                               "Propriétaire", "Validité", "Version",
                                               "SHA-256", "Annexe")]]
        for row in range(per):
            rows.append([Paragraph(str(row), cell),
                         Paragraph(f"Pièce de test n°{row} – compte rendu &amp; annexe", cell),
                         Paragraph("Document (PDF)", cell), Paragraph("—", cell),
                         Paragraph("Responsable qualité", cell), Paragraph("sans limite", cell),
                         "v1", "0123456789ab", str(row)])
        story.append(Table(rows, colWidths=[w * mm for w in (8, 37, 16, 19, 21, 19, 13, 21,
                                                              16)], repeatRows=1))
    SimpleDocTemplate(str(path), pagesize=A4).build(story)
    canvas = Canvas(str(separators), pagesize=A4)
    for number in range(1, pieces + 1):
        canvas.setFont("Helvetica-Bold", 16)
        canvas.drawString(56, 780, f"Annexe – Pièce {number}")
        canvas.setFont("Helvetica", 7)
        for line in range(10):
            canvas.drawString(56, 740 - 10 * line, f"Détail {line} de la pièce {number}")
        canvas.drawRightString(540, 30, f"page {number} / {pieces}")
        canvas.showPage()
    canvas.save()


def pypdf_merge(path: Path, files: list[Path]) -> int:
    """pypdf alone: append every file to one ``PdfWriter``, then write it."""
    import warnings

    from pypdf import PdfWriter

    writer = PdfWriter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for file in files:
            writer.append(str(file))
        with path.open("wb") as out:
            writer.write(out)
    return len(writer.pages)


# ------------------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pieces", type=int, default=2000)
    parser.add_argument("--pdfs", default="150,300", help="PDF counts to compare")
    parser.add_argument("--pages-per-pdf", type=int, default=5)
    parser.add_argument("--zip", action="store_true", help="also build the ZIP")
    parser.add_argument("--workdir", type=Path, default=HERE / "out")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    counts = [int(n) for n in args.pdfs.split(",")]

    args.workdir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="dossier-bench-", dir=args.workdir))
    os.environ.pop("DATABASE_URL", None)
    from sqlalchemy import func, select

    from audit_tracker import create_app
    from audit_tracker.dossier import DossierOptions, build_dossier
    from audit_tracker.extensions import db
    from audit_tracker.models import Evidence, EvidenceLink
    from audit_tracker.referentiel.service import load_shipped_referentiels

    app = create_app({"SECRET_KEY": "bench", "INSTANCE_PATH": str(work / "instance"),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'bench.sqlite3'}"})
    results = []
    try:
        with app.app_context():
            db.create_all()
            load_shipped_referentiels(db.session)
            db.session.commit()
            for index, pdfs in enumerate(counts):
                sources = work / f"sources-{pdfs}"
                sources.mkdir()
                started = time.perf_counter()
                campaign, pdf_files = make_school(app, index, args.pieces, pdfs,
                                                  args.pages_per_pdf, sources)
                setup = time.perf_counter() - started
                if index == 0:  # warm-up: imports, fonts, caches are not what is compared
                    qualiopi = [f.id for f in campaign.frameworks if f.code == "qualiopi-v9"]
                    build_dossier(db.session, campaign,
                                  DossierOptions(framework_ids=tuple(qualiopi),
                                                 with_annexes=False),
                                  work / "warm-up.pdf", today=date(2018, 2, 28))
                phases: list[tuple[float, int, str]] = []
                out = work / f"dossier-{pdfs}.pdf"
                with Step("build") as build:
                    result = build_dossier(
                        db.session, campaign, DossierOptions(), out,
                        zip_path=work / f"dossier-{pdfs}.zip" if args.zip else None,
                        progress=lambda p, label, log=phases: log.append(
                            (time.perf_counter(), p, label)),
                        today=date(2018, 2, 28))
                merged = pdfs * args.pages_per_pdf
                generated = result.page_count - merged
                with Step("reportlab") as plain:
                    reportlab_plain(work / f"plain-{pdfs}.pdf", generated)
                links = db.session.scalar(select(func.count()).select_from(EvidenceLink)
                                          .join(Evidence).where(
                                              Evidence.school_id == campaign.school_id))
                with Step("floor") as least:
                    floor(work / f"floor-{pdfs}.pdf", work / f"floor-sep-{pdfs}.pdf",
                          args.pieces, 75, links)
                with Step("pypdf") as merge:
                    merged_pages = pypdf_merge(work / f"pypdf-{pdfs}.pdf", pdf_files)
                assert merged_pages == merged
                results.append((pdfs, setup, result, generated, merged, build, plain, merge,
                                phases, least))
                db.session.remove()
        report(results, args)
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _phase_times(phases, start: float) -> dict[str, float]:
    """Seconds spent in each coarse step, from the progress callbacks' timestamps."""
    marks = [(t, label.split(" (")[0]) for t, _p, label in phases]
    spent: dict[str, float] = {}
    for (t0, label), (t1, _next) in zip(marks, marks[1:], strict=False):
        spent[label] = spent.get(label, 0.0) + (t1 - t0)
    return spent


def report(results, args) -> None:
    import platform

    import pypdf
    import reportlab

    print(f"\nPython {platform.python_version()}, reportlab {reportlab.Version}, "
          f"pypdf {pypdf.__version__}, {os.cpu_count()} CPU; pièces {args.pieces}, "
          f"{args.pages_per_pdf} pages per PDF")
    print("\n| PDFs | merged pages | generated pages | total pages | PDF MB | setup s | "
          "build s | build peak RSS MB | Δ RSS MB | reportlab alone s | Δ RSS MB | "
          "pypdf alone s | pypdf Δ RSS MB | build CPU s | floor s | floor CPU s |")
    print("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for pdfs, setup, result, generated, merged, build, plain, merge, _phases, least in results:
        print(f"| {pdfs} | {merged} | {generated} | {result.page_count} | "
              f"{result.size / MB:.0f} | {setup:.0f} | {build.seconds:.1f} | "
              f"{build.peak / MB:.0f} | {build.growth / MB:.0f} | {plain.seconds:.1f} | "
              f"{plain.growth / MB:.0f} | {merge.seconds:.1f} | {merge.growth / MB:.0f} | "
              f"{build.cpu:.1f} | {least.seconds:.1f} | {least.cpu:.1f} |")
    print("\nBuild steps (s):")
    for pdfs, *_rest, phases, _least in results:
        spent = _phase_times(phases, phases[0][0])
        print(f"  {pdfs} PDFs: " + ", ".join(f"{k} {v:.1f}" for k, v in spent.items()))


if __name__ == "__main__":
    main()

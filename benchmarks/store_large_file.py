"""Store a large evidence file through the product's own path; time it and watch the memory.

    .venv/bin/python benchmarks/store_large_file.py [--size-mb 500] [--small-mb 50]
        [--formats csv,pdf] [--repeat 3] [--workdir DIR] [--keep]

For each format and for two sizes (``--small-mb`` then ``--size-mb``) it writes a source file
chunk by chunk, then, in this one process, does what the upload page does with it:
``receive_file`` (spool to a temporary file in 1 MiB chunks while hashing, then ``inspect_file``)
and ``create_evidence`` (rename into local storage, commit the rows and the search index), on a
SQLite database and an instance folder inside the work folder. It then re-reads the stored object
with ``storage.open_chunks`` and hashes it, as ``flask evidence verify`` does.

The same source is copied with the system's own tools, ``cp SRC DST`` then ``sha256sum DST``:
one copy and one hash, the least work any store of the file must do. The product's time is
reported as a ratio of that, and of ``cp`` then ``openssl dgst -sha256``, because GNU sha256sum
may not use the processor's SHA instructions while OpenSSL (and so Python's hashlib) does.

Memory, per run: the process's peak resident set size (Linux ``VmHWM``, reset before each run
through ``/proc/self/clear_refs``) and its growth over the resident size just before the run,
and, in a separate pass so that tracing does not slow the timed runs, the peak of Python
allocations (``tracemalloc``). If the file is streamed, these figures are the same at both
sizes.

Sizes are in MB of 1,048,576 bytes. Nothing here is run by the test suite.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

MB = 1024 * 1024
HERE = Path(__file__).resolve().parent
DEFAULT_PARENT = HERE / "out"  # ignored by git (.gitignore), on the repository's disk

# ------------------------------------------------------------------------------ source files

# A4 at 300 dpi, 24-bit colour, uncompressed: the size a scanner writes before any compression.
_SCAN_WIDTH, _SCAN_HEIGHT = 2480, 3508


def write_scan_pdf(path: Path, size: int) -> None:
    """A valid PDF of about ``size`` bytes: a scanned dossier, one full-page image per page.

    Each page draws an uncompressed RGB image of random pixels (incompressible, the worst case
    for every layer below) and carries a line of real text, as an OCR layer would, so the
    product's text extraction has something to find. Written object by object and the image
    data 1 MiB at a time, with a classic cross-reference table at the end: the file is never
    in memory.
    """
    row = _SCAN_WIDTH * 3
    pages = max(1, math.ceil(size / (row * _SCAN_HEIGHT)))
    height = max(1, size // pages // row)
    offsets: list[int] = []
    with path.open("wb") as out:

        def start_object() -> int:
            offsets.append(out.tell())
            out.write(f"{len(offsets)} 0 obj\n".encode())
            return len(offsets)

        out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        kids = " ".join(f"{4 + 3 * page} 0 R" for page in range(pages))
        start_object()
        out.write(b"<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
        start_object()
        out.write(f"<< /Type /Pages /Count {pages} /Kids [{kids}] >>\nendobj\n".encode())
        start_object()
        out.write(
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
            b"/Encoding /WinAnsiEncoding >>\nendobj\n"
        )
        for page in range(pages):
            number = start_object()
            out.write(
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595.28 841.89] "
                f"/Resources << /Font << /F1 3 0 R >> /XObject << /Im0 {number + 2} 0 R >> >> "
                f"/Contents {number + 1} 0 R >>\nendobj\n".encode()
            )
            line = f"Dossier de labellisation E2C, feuille d’émargement, page {page + 1}/{pages}"
            content = (
                b"q 595.28 0 0 841.89 0 0 cm /Im0 Do Q BT /F1 11 Tf 56 800 Td ("
                + line.encode("cp1252")
                + b") Tj ET"
            )
            start_object()
            out.write(f"<< /Length {len(content)} >>\nstream\n".encode())
            out.write(content + b"\nendstream\nendobj\n")
            length = row * height
            start_object()
            out.write(
                f"<< /Type /XObject /Subtype /Image /Width {_SCAN_WIDTH} /Height {height} "
                f"/ColorSpace /DeviceRGB /BitsPerComponent 8 /Length {length} >>\n"
                "stream\n".encode()
            )
            left = length
            while left:
                chunk = os.urandom(min(left, MB))
                out.write(chunk)
                left -= len(chunk)
            out.write(b"\nendstream\nendobj\n")
        xref = out.tell()
        out.write(f"xref\n0 {len(offsets) + 1}\n0000000000 65535 f \n".encode())
        for offset in offsets:
            out.write(f"{offset:010d} 00000 n \n".encode())
        out.write(
            f"trailer\n<< /Size {len(offsets) + 1} /Root 1 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n".encode()
        )


_SITES = ("Toulon", "La Seyne-sur-Mer", "Brignoles", "Draguignan", "Hyères")
_MODULES = ("Français", "Mathématiques", "Numérique", "Projet professionnel", "Stage")


def write_attendance_csv(path: Path, size: int) -> None:
    """A CSV export of attendance sheets (French, semicolons, UTF-8), written in batches and
    cut at the last whole line within ``size``."""
    with path.open("wb") as out:
        written = out.write("date;site;stagiaire;module;heures;présence;émargement\n".encode())
        line = 0
        while written < size:
            rows = []
            for _ in range(10_000):
                line += 1
                rows.append(
                    f"2018-{line % 12 + 1:02d}-{line % 28 + 1:02d};{_SITES[line % 5]};"
                    f"Stagiaire {line % 4999:04d};{_MODULES[line % 7 % 5]};"
                    f"{line % 4 + 2},5;{'présent' if line % 9 else 'absent justifié'};"
                    f"signé-{line:09d}\n"
                )
            batch = "".join(rows).encode("utf-8")
            if written + len(batch) > size:
                batch = batch[: batch.rfind(b"\n", 0, size - written) + 1]
                if not batch:
                    break
            written += out.write(batch)


FORMATS = {
    # format: (writer, the name the user uploads it under)
    "csv": (write_attendance_csv, "émargements-2018.csv"),
    "pdf": (write_scan_pdf, "dossier-scanné.pdf"),
}

# ------------------------------------------------------------------------------------ memory


def _proc_status_kib(field_name: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _ru_maxrss_kib() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # bytes on macOS, KiB elsewhere


def rss_kib() -> int:
    return _proc_status_kib("VmRSS") or _ru_maxrss_kib()


def reset_peak_rss() -> bool:
    """Reset Linux's peak-RSS mark (VmHWM) so that the next reading is this run's peak."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


def peak_rss_kib() -> int:
    return _proc_status_kib("VmHWM") or _ru_maxrss_kib()


# ------------------------------------------------------------------------------------ runs


@dataclass
class ProductRun:
    store_s: float
    receive_s: float
    verify_s: float
    rss_before_kib: int
    peak_rss_kib: int
    ru_maxrss_kib: int
    sha256: str
    media_type: str
    flags: list[str]
    text_chars: int


@dataclass
class Result:
    fmt: str
    size: int
    product: list[ProductRun] = field(default_factory=list)
    cp_s: list[float] = field(default_factory=list)
    sha256sum_s: list[float] = field(default_factory=list)
    openssl_s: list[float] = field(default_factory=list)
    inspect_s: float = 0.0
    traced_store_peak: int = 0
    traced_verify_peak: int = 0


class Product:
    """The application on a SQLite file in the work folder, with a school and a quality lead."""

    def __init__(self, workdir: Path, max_size: int):
        from audit_tracker import create_app
        from audit_tracker.extensions import db
        from audit_tracker.models import Role, School, User

        instance = workdir / "instance"
        # create_app takes the instance folder from the environment, not from its mapping.
        os.environ["AUDIT_TRACKER_INSTANCE_PATH"] = str(instance)
        self.app = create_app(
            {
                "SECRET_KEY": "benchmark-not-a-secret",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'benchmark.sqlite3'}",
                "MAX_CONTENT_LENGTH": max_size,
                "EVIDENCE_STORAGE": "local",
                "EVIDENCE_DIR": str(instance / "evidence"),
                "UPLOAD_TMP_DIR": str(instance / "tmp"),
            }
        )
        self.context = self.app.app_context()
        self.context.push()
        self.db = db
        db.create_all()
        school = School(name="École de la 2e Chance du banc d’essai", short_name="E2C banc")
        user = User(
            school=school,
            email="qualite@banc.example",
            full_name="Responsable qualité",
            role=Role.QUALITY_LEAD,
        )
        db.session.add(user)
        db.session.commit()
        self.user_model, self.user_id = User, user.id

    def close(self) -> None:
        self.db.session.remove()
        self.db.engine.dispose()
        self.context.pop()

    def store(
        self, source: Path, filename: str, *, trace: bool = False
    ) -> tuple[ProductRun, tuple[int, int]]:
        """One upload as the page does it, then the verify re-read; the traced peak if asked."""
        from audit_tracker.evidence.service import EvidenceFields, create_evidence, receive_file
        from audit_tracker.storage import EVIDENCE, storage_for, upload_tmp_dir

        app, session = self.app, self.db.session
        storage = storage_for(app, EVIDENCE)
        user = session.get(self.user_model, self.user_id)
        os.sync()  # the previous run's writes are on disk, not competing with this one
        gc.collect()
        rss_before = rss_kib()
        reset_peak_rss()
        if trace:
            tracemalloc.start()
        started = time.perf_counter()
        with source.open("rb") as stream:  # what the view passes: the upload's file stream
            upload = receive_file(
                stream, filename, upload_tmp_dir(app), app.config["MAX_CONTENT_LENGTH"]
            )
        received = time.perf_counter()
        fields = EvidenceFields(title=upload.filename.rsplit(".", 1)[0])
        evidence = create_evidence(
            session,
            storage,
            school=user.school,
            author=user,
            fields=fields,
            upload=upload,
        )
        stored = time.perf_counter()
        traced_store = tracemalloc.get_traced_memory()[1] if trace else 0
        peak, ru_maxrss = peak_rss_kib(), _ru_maxrss_kib()  # both since the reset above
        version = evidence.current_version
        run = ProductRun(
            store_s=stored - started,
            receive_s=received - started,
            verify_s=0.0,
            rss_before_kib=rss_before,
            peak_rss_kib=peak,
            ru_maxrss_kib=ru_maxrss,
            sha256=version.sha256,
            media_type=version.media_type,
            flags=list(version.flags or []),
            text_chars=len(version.extracted_text or ""),
        )
        key, expected_size = version.storage_key, version.size
        session.expunge_all()  # the session lets go of the ~1 MB of search text it holds

        os.sync()
        gc.collect()  # pypdf's objects are cyclic: freed by the collector, not at once
        base = tracemalloc.get_traced_memory()[0] if trace else 0
        if trace:
            tracemalloc.reset_peak()
        started = time.perf_counter()
        digest, size = hashlib.sha256(), 0
        for chunk in storage.open_chunks(key):
            digest.update(chunk)
            size += len(chunk)
        run.verify_s = time.perf_counter() - started
        traced_verify = tracemalloc.get_traced_memory()[1] - base if trace else 0
        if trace:
            tracemalloc.stop()
        if digest.hexdigest() != run.sha256 or size != expected_size:
            raise SystemExit(f"stored object {key} does not match its row")
        storage.delete(key)  # keep the disk and the page cache from filling up across runs
        return run, (traced_store, traced_verify)

    def inspect_only(self, source: Path, filename: str) -> float:
        from audit_tracker.evidence.filetypes import inspect_file

        started = time.perf_counter()
        inspect_file(source, filename)
        return time.perf_counter() - started


def _hash_command() -> list[str]:
    if shutil.which("sha256sum"):
        return ["sha256sum"]
    return ["shasum", "-a", "256"]  # macOS


def _timed_hash(command: list[str], target: Path) -> tuple[float, str]:
    os.sync()
    started = time.perf_counter()
    output = subprocess.run(  # noqa: S603 - our own fixed commands on our own file
        [*command, str(target)], check=True, capture_output=True, text=True
    ).stdout
    elapsed = time.perf_counter() - started
    # "HEX  path" (sha256sum) or "SHA2-256(path)= HEX" (openssl)
    words = output.split()
    return elapsed, words[0] if "(" not in words[0] else words[-1]


def system_copy(source: Path, workdir: Path) -> tuple[float, float, float | None, set[str]]:
    """``cp SRC DST`` then ``sha256sum DST`` (and ``openssl dgst -sha256 DST``), each timed.

    GNU sha256sum may not use the processor's SHA instructions, which OpenSSL (and so Python's
    hashlib) does: openssl is the fastest hash the system offers, sha256sum the obvious one.
    """
    target = workdir / "cp-copy"
    os.sync()
    started = time.perf_counter()
    subprocess.run(["cp", str(source), str(target)], check=True)  # noqa: S603, S607
    copied = time.perf_counter() - started
    hashed, digest = _timed_hash(_hash_command(), target)
    digests = {digest}
    openssl = None
    if shutil.which("openssl"):
        openssl, digest = _timed_hash(["openssl", "dgst", "-sha256"], target)
        digests.add(digest)
    target.unlink()
    return copied, hashed, openssl, digests


def measure(product: Product, workdir: Path, fmt: str, size: int, repeat: int) -> Result:
    writer, filename = FORMATS[fmt]
    source = workdir / f"source-{size // MB}mb.{fmt}"
    print(f"  writing {source.name} ({size // MB} MB)…", flush=True)
    writer(source, size)
    result = Result(fmt, source.stat().st_size)
    for turn in range(repeat):
        # Alternate who goes first, so neither always meets the other's page cache state.
        steps = ["system", "product"] if turn % 2 == 0 else ["product", "system"]
        for step in steps:
            if step == "system":
                copied, hashed, openssl, system_digests = system_copy(source, workdir)
                result.cp_s.append(copied)
                result.sha256sum_s.append(hashed)
                if openssl is not None:
                    result.openssl_s.append(openssl)
            else:
                run, _traced = product.store(source, filename)
                result.product.append(run)
        if system_digests != {run.sha256}:
            raise SystemExit(f"{fmt}: the product's SHA-256 differs from the system tools'")
    print(f"  traced pass (tracemalloc) on {source.name}…", flush=True)
    _run, (result.traced_store_peak, result.traced_verify_peak) = product.store(
        source, filename, trace=True
    )
    result.inspect_s = product.inspect_only(source, filename)
    source.unlink()
    return result


# ------------------------------------------------------------------------------------ report


def machine() -> list[str]:
    cpu = platform.processor() or platform.machine()
    mem_total = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            models = {ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")}
        cpu = ", ".join(sorted(models)) or cpu
        with open("/proc/meminfo", encoding="ascii") as info:
            mem_total = next(int(ln.split()[1]) for ln in info if ln.startswith("MemTotal"))
    except (OSError, StopIteration):
        pass
    return [
        f"CPU: {os.cpu_count()} × {cpu}",
        f"memory: {mem_total / 1024 / 1024:.1f} GiB" if mem_total else "memory: unknown",
        f"Python {platform.python_version()} on {platform.system()} {platform.release()}",
    ]


def filesystem_of(path: Path) -> str:
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            entries = [line.split()[:3] for line in mounts]
    except OSError:
        return "unknown"
    resolved = str(path.resolve())
    best = max(
        (e for e in entries if resolved == e[1] or resolved.startswith(e[1].rstrip("/") + "/")),
        key=lambda e: len(e[1]),
        default=None,
    )
    return f"{best[0]} ({best[2]}) mounted on {best[1]}" if best else "unknown"


def _mb(kib: int) -> str:
    return f"{kib / 1024:.0f}"


def _median_sum(first: list[float], second: list[float]) -> float | None:
    if not first or len(first) != len(second):
        return None
    return statistics.median(a + b for a, b in zip(first, second, strict=True))


def _cell(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def report(results: list[Result], peak_is_per_run: bool) -> str:
    lines = [
        "Time (median of the runs, warm page cache, no fsync on either side). Product store = "
        "receive_file (spool + SHA-256 in one pass, then inspect_file) + create_evidence "
        "(rename into storage, commit: the 'create' column); inspect = inspect_file alone on "
        "the same file; "
        "verify = re-read the stored object with open_chunks and hash it. System = cp then a "
        "hash of the copy; ratio = product store time / system time (below 1: the product is "
        "faster).",
        "",
        "| file | MB | product store s | MB/s | of which create s | inspect s | verify s | cp s "
        "| sha256sum s | openssl s | cp+sha256sum s | ratio | cp+openssl s | ratio |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        mb = r.size / MB
        store = statistics.median(p.store_s for p in r.product)
        create = statistics.median(p.store_s - p.receive_s for p in r.product)
        verify = statistics.median(p.verify_s for p in r.product)
        with_sha256sum = _median_sum(r.cp_s, r.sha256sum_s)
        with_openssl = _median_sum(r.cp_s, r.openssl_s)
        lines.append(
            f"| {r.fmt} | {mb:.0f} | {store:.2f} | {mb / store:.0f} | {create:.2f} "
            f"| {r.inspect_s:.2f} "
            f"| {verify:.2f} | {statistics.median(r.cp_s):.2f} "
            f"| {statistics.median(r.sha256sum_s):.2f} "
            f"| {_cell(statistics.median(r.openssl_s) if r.openssl_s else None)} "
            f"| {with_sha256sum:.2f} | {store / with_sha256sum:.2f} "
            f"| {_cell(with_openssl)} | {_cell(store / with_openssl if with_openssl else None)} |"
        )
    lines += [
        "",
        "Memory. Peak RSS: the process's resident peak during the store (receive + create), "
        "reset just before it, and Δ, that peak minus the RSS just before the store, both from "
        "the timed run where Δ was largest; tracemalloc: peak of Python allocations above "
        "those alive when the step began, in a separate traced pass (store, then verify).",
        "",
        "| file | MB | RSS before MB | peak RSS MB | Δ RSS MB | tracemalloc store MB "
        "| tracemalloc verify MB | what was stored |",
        "|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    for r in results:
        worst = max(r.product, key=lambda p: p.peak_rss_kib - p.rss_before_kib)
        stored = f"{worst.media_type}, {worst.text_chars:,} chars of text"
        if worst.flags:
            stored += f", flags {', '.join(worst.flags)}"
        lines.append(
            f"| {r.fmt} | {r.size / MB:.0f} | {_mb(worst.rss_before_kib)} "
            f"| {_mb(worst.peak_rss_kib)} "
            f"| {_mb(worst.peak_rss_kib - worst.rss_before_kib)} "
            f"| {r.traced_store_peak / MB:.1f} | {r.traced_verify_peak / MB:.1f} | {stored} |"
        )
    lines.append("")
    if peak_is_per_run:
        highest = max(p.peak_rss_kib for r in results for p in r.product)
        maxrss = max(p.ru_maxrss_kib for r in results for p in r.product)
        lines.append(
            f"Highest peak RSS of the process in any run: {_mb(highest)} MB (VmHWM); "
            f"ru_maxrss, read at the same moments: {_mb(maxrss)} MB."
        )
    else:
        lines.append("Peak RSS could not be reset per run: figures are the process's peak so far.")
    return "\n".join(lines)


# -------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=500, help="the large file (default 500)")
    parser.add_argument("--small-mb", type=int, default=50, help="the small one (default 50)")
    parser.add_argument(
        "--formats", default="csv,pdf", help="comma-separated, among csv, pdf (default both)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per file (default 3)")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="folder for a temporary work folder (default benchmarks/out/, on the repo's disk)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder afterwards")
    args = parser.parse_args(argv)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or args.repeat < 1 or min(args.size_mb, args.small_mb) < 1:
        parser.error(f"bad arguments (unknown formats: {unknown})")
    sizes = sorted({args.small_mb * MB, args.size_mb * MB})

    parent = args.workdir or DEFAULT_PARENT
    parent.mkdir(parents=True, exist_ok=True)
    needed = 3 * max(sizes) + 256 * MB  # source, spool or stored object, cp copy, margin
    free = shutil.disk_usage(parent).free
    if free < needed:
        print(f"not enough free space in {parent}: {free // MB} MB, need {needed // MB} MB")
        return 1
    workdir = Path(tempfile.mkdtemp(prefix="store-large-file-", dir=parent))
    print("\n".join(machine()))
    print(f"work folder: {workdir} on {filesystem_of(workdir)}")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"date: {time.strftime('%Y-%m-%d %H:%M')}; load average at start: {load}", flush=True)
    peak_is_per_run = reset_peak_rss()
    product = None
    try:
        product = Product(workdir, max(sizes) + 16 * MB)
        results = []
        for fmt in formats:
            for size in sizes:
                print(f"{fmt}, {size // MB} MB:", flush=True)
                results.append(measure(product, workdir, fmt, size, args.repeat))
        print()
        print(report(results, peak_is_per_run))
    finally:
        if product is not None:
            product.close()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
            if args.workdir is None and not any(parent.iterdir()):
                parent.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Upload a big file through HTTP to gunicorn (as ``make serve`` runs it) and compare with
``cp`` + ``openssl dgst -sha256`` of the same file in the same run; report the worker's peak
memory. Two ways in: the multipart form (``POST /api/v1/evidence``) and the file as the raw
request body (``POST /api/v1/evidence/upload``). See benchmarks/README.md (« upload_http.py »).

    .venv/bin/python benchmarks/upload_http.py [--size-mb 500] [--repeat 3]
        [--mode multipart|raw|both] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 1024 * 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_source(path: Path, size: int) -> None:
    """A CSV of that size, written in chunks (random digits: nothing compresses it)."""
    line_count = 0
    with path.open("wb") as out:
        written = out.write(b"jour;site;entrees;sorties;commentaire\n")
        block = bytearray()
        while written < size:
            block.clear()
            while len(block) < CHUNK:
                line_count += 1
                block += (f"2018-02-{line_count % 28 + 1:02d};TPM;{line_count % 97};"
                          f"{line_count % 13};{os.urandom(24).hex()}\n").encode()
            written += out.write(bytes(block[: size - written]))


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0])


def file_chunks(source: Path, head: bytes = b"", tail: bytes = b"") -> Iterator[bytes]:
    yield head
    with source.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk
    yield tail


def upload(port: int, token: str, source: Path, mode: str) -> tuple[float, dict]:
    """The file sent from disk in 1 MiB chunks: a multipart form to POST /api/v1/evidence, or
    the raw body to POST /api/v1/evidence/upload."""
    if mode == "multipart":
        boundary = uuid.uuid4().hex
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n"
                f"Gros fichier\r\n--{boundary}\r\nContent-Disposition: form-data; "
                f"name=\"file\"; filename=\"{source.name}\"\r\nContent-Type: text/csv"
                f"\r\n\r\n").encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        path, body = "/api/v1/evidence", file_chunks(source, head, tail)
        length = len(head) + source.stat().st_size + len(tail)
        content_type = f"multipart/form-data; boundary={boundary}"
    else:
        query = urlencode({"filename": source.name, "title": "Gros fichier"})
        path, body = f"/api/v1/evidence/upload?{query}", file_chunks(source)
        length, content_type = source.stat().st_size, "text/csv"

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    connection.request("POST", path, body=body, headers={
        "Authorization": f"Bearer {token}",
        "Content-Type": content_type,
        "Content-Length": str(length)})
    response = connection.getresponse()
    payload = json.loads(response.read())
    elapsed = time.perf_counter() - started
    connection.close()
    if response.status != 201:
        raise SystemExit(f"upload refused: {response.status} {payload}")
    return elapsed, payload


def system_tools(source: Path, target: Path) -> tuple[float, float, str]:
    """``cp`` then ``openssl dgst`` of the copy: the time of both, of cp alone, the digest."""
    started = time.perf_counter()
    subprocess.run(["cp", str(source), str(target)], check=True)  # noqa: S603, S607
    copied = time.perf_counter()
    out = subprocess.run(["openssl", "dgst", "-sha256", "-r", str(target)],  # noqa: S603, S607
                         check=True, capture_output=True, text=True).stdout
    elapsed = time.perf_counter() - started
    target.unlink()
    return elapsed, copied - started, out.split()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mode", choices=("multipart", "raw", "both"), default="both")
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "out")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="upload-http-", dir=args.workdir))
    size = args.size_mb * 1024 * 1024
    env = {**os.environ,
           "AUDIT_TRACKER_INSTANCE_PATH": str(work / "instance"),
           "AUDIT_TRACKER_DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
           "AUDIT_TRACKER_SECRET_KEY": uuid.uuid4().hex * 2,
           "AUDIT_TRACKER_MAX_CONTENT_LENGTH": str(size + 10 * CHUNK),
           "AUDIT_TRACKER_WEB_WORKERS": "1",
           "AUDIT_TRACKER_WEB_TIMEOUT": "600",
           "AUDIT_TRACKER_BIND": f"127.0.0.1:{free_port()}"}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    try:
        print(f"work folder {work}; writing a {args.size_mb} MB CSV…", flush=True)
        source = work / "gros-fichier.csv"
        write_source(source, size)
        # The demo school and its quality lead, whose API token uploads.
        subprocess.run([*flask, "setup", "--demo"], env=env, cwd=ROOT, check=True,  # noqa: S603
                       stdout=subprocess.DEVNULL)
        token = subprocess.run([*flask, "users", "token", "qualite@e2c-var.example"],  # noqa: S603
                               env=env, cwd=ROOT, check=True, capture_output=True,
                               text=True).stdout.strip().splitlines()[-1]
        port = int(env["AUDIT_TRACKER_BIND"].rsplit(":", 1)[1])
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
            stderr=(work / "gunicorn.log").open("wb"))  # kept with --keep
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            worker = worker_pid(server.pid)
            idle_rss = peak_rss_kb(worker)
            modes = ("multipart", "raw") if args.mode == "both" else (args.mode,)
            # Warm-up, not timed: a worker's first upload imports the file inspectors (PDF,
            # office, text), about a second whatever the size.
            warm = work / "petit.csv"
            for mode in modes:
                warm.write_bytes(f"jour;site\n2018-02-01;{mode}\n".encode())
                upload(port, token, warm, mode)
            warm_rss = peak_rss_kb(worker)
            uploads: dict[str, list[float]] = {mode: [] for mode in modes}
            tools: dict[str, list[float]] = {mode: [] for mode in modes}
            copies: dict[str, list[float]] = {mode: [] for mode in modes}
            for run in range(args.repeat):
                for mode in modes:  # interleaved: a load change hits both ways alike
                    # A new file each time (its first line changes): the library refuses the
                    # same content twice, and says so (issue 13).
                    with source.open("r+b") as handle:
                        handle.write(f"run{run:02d}{mode[0]};".encode())
                    # Each timing starts with no dirty page left by the one before: otherwise
                    # cp pays for writing back the upload's 500 MB, or the upload for cp's.
                    os.sync()
                    elapsed, payload = upload(port, token, source, mode)
                    uploads[mode].append(elapsed)
                    os.sync()
                    tool_time, cp_time, tool_digest = system_tools(source, work / "copie.csv")
                    tools[mode].append(tool_time)
                    copies[mode].append(cp_time)
                    if payload["versions"][0]["sha256"] != tool_digest:
                        raise SystemExit(f"hashes differ: {payload['versions'][0]['sha256']}, "
                                         f"{tool_digest}")
                    print(f"run {run + 1} {mode}: upload {elapsed:.2f} s, cp+openssl "
                          f"{tool_time:.2f} s (cp {cp_time:.2f} s), ratio "
                          f"{tool_time / elapsed:.2f}", flush=True)
            try:
                peak = peak_rss_kb(worker)
            except FileNotFoundError:
                raise SystemExit(f"the worker {worker} is gone: see {work / 'gunicorn.log'} "
                                 "(run with --keep)") from None
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        report: dict[str, object] = {"size_mb": args.size_mb, "repeat": args.repeat}
        for mode in modes:
            upload_s, tools_s = statistics.median(uploads[mode]), statistics.median(tools[mode])
            report[mode] = {
                "upload_s": round(upload_s, 2),
                "upload_mb_per_s": round(args.size_mb / upload_s, 1),
                "cp_openssl_s": round(tools_s, 2),
                "cp_alone_s": round(statistics.median(copies[mode]), 2),
                "throughput_ratio": round(tools_s / upload_s, 2),  # goal ≥ 0.5
            }
        # Flat memory: the peak after the big uploads is the peak after the small ones.
        report["worker_rss_idle_mb"] = round(idle_rss / 1024, 1)
        report["worker_rss_peak_after_warmup_mb"] = round(warm_rss / 1024, 1)
        report["worker_rss_peak_mb"] = round(peak / 1024, 1)
        report["load_average"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
        print(json.dumps(report, indent=2))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

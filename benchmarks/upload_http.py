"""Upload a big file through HTTP to gunicorn (as ``make serve`` runs it) and compare with
``cp`` + ``openssl dgst -sha256`` of the same file in the same run; report the worker's peak
memory. See benchmarks/README.md (« upload_http.py »).

    .venv/bin/python benchmarks/upload_http.py [--size-mb 500] [--repeat 3] [--workdir DIR]
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
from pathlib import Path

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


def upload(port: int, token: str, source: Path) -> tuple[float, dict]:
    """POST /api/v1/evidence, multipart, the body streamed from disk in 1 MiB chunks."""
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n"
            f"Gros fichier\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{source.name}\"\r\nContent-Type: text/csv\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + source.stat().st_size + len(tail)

    def body():
        yield head
        with source.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk
        yield tail

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    connection.request("POST", "/api/v1/evidence", body=body(), headers={
        "Authorization": f"Bearer {token}",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(length)})
    response = connection.getresponse()
    payload = json.loads(response.read())
    elapsed = time.perf_counter() - started
    connection.close()
    if response.status != 201:
        raise SystemExit(f"upload refused: {response.status} {payload}")
    return elapsed, payload


def system_tools(source: Path, target: Path) -> tuple[float, str]:
    started = time.perf_counter()
    subprocess.run(["cp", str(source), str(target)], check=True)  # noqa: S603, S607
    out = subprocess.run(["openssl", "dgst", "-sha256", "-r", str(target)],  # noqa: S603, S607
                         check=True, capture_output=True, text=True).stdout
    elapsed = time.perf_counter() - started
    target.unlink()
    return elapsed, out.split()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
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
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            worker = worker_pid(server.pid)
            idle_rss = peak_rss_kb(worker)
            uploads, tools = [], []
            for run in range(args.repeat):
                # A new file each run (its first line changes): the library refuses the same
                # content twice, and says so (issue 13).
                with source.open("r+b") as handle:
                    handle.write(f"run{run:02d};".encode())
                elapsed, payload = upload(port, token, source)
                uploads.append(elapsed)
                tool_time, tool_digest = system_tools(source, work / "copie.csv")
                tools.append(tool_time)
                if payload["versions"][0]["sha256"] != tool_digest:
                    raise SystemExit(f"hashes differ: {payload['versions'][0]['sha256']}, "
                                     f"{tool_digest}")
                print(f"run {run + 1}: upload {elapsed:.2f} s, cp+openssl {tool_time:.2f} s",
                      flush=True)
            peak = peak_rss_kb(worker)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        upload_s, tools_s = statistics.median(uploads), statistics.median(tools)
        print(json.dumps({
            "size_mb": args.size_mb,
            "upload_s": round(upload_s, 2),
            "upload_mb_per_s": round(args.size_mb / upload_s, 1),
            "cp_openssl_s": round(tools_s, 2),
            "throughput_ratio": round(tools_s / upload_s, 2),  # goal ≥ 0.5
            "worker_rss_idle_mb": round(idle_rss / 1024, 1),
            "worker_rss_peak_mb": round(peak / 1024, 1),
        }, indent=2))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

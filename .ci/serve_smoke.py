"""The journey of .ci/serve-smoke across two gunicorn instances that share PostgreSQL, Redis and
the S3-compatible server: probes, no banner, a session opened on A used on B, a proof uploaded
through B, a dossier started through A, followed and downloaded through B.

    python .ci/serve_smoke.py URL_A URL_B ACCOUNTS_FILE API_TOKEN LOG_OF_B

Its last line is « serve-smoke: N passed, 0 failed »; the first failed check stops it (exit 1).
"""

from __future__ import annotations

import http.client
import json
import re
import sys
import time
import uuid
from urllib.parse import urlsplit

TIMEOUT_S = 90  # for the dossier build, the slowest step


class Instance:
    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.name = base

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()


PASSED = []


def check(condition: bool, what: str) -> None:
    if not condition:
        print(f"serve-smoke: FAILED: {what}", flush=True)
        raise SystemExit(f"serve-smoke: {len(PASSED)} passed, 1 failed")
    PASSED.append(what)
    print(f"serve-smoke: ok: {what}", flush=True)


def cookie_of(headers: dict[str, str]) -> str:
    raw = headers.get("Set-Cookie", "")
    match = re.search(r"session=([^;]+)", raw)
    return f"session={match.group(1)}" if match else ""


def main() -> None:
    url_a, url_b, accounts_file, token, log_of_b = sys.argv[1:6]
    a, b = Instance(url_a), Instance(url_b)
    api = {"Authorization": f"Bearer {token}"}

    for instance in (a, b):
        status, headers, body = instance.request("GET", "/healthz")
        check(status == 200 and json.loads(body) == {"status": "ok"}, f"{instance.name} /healthz")
        check("Server" not in headers, f"{instance.name} sends no Server banner")
        status, _headers, body = instance.request("GET", "/readyz")
        check(status == 200 and json.loads(body)["checks"] ==
              {"database": "ok", "storage": "ok", "queue": "ok"},
              f"{instance.name} /readyz: database, storage and queue ok")

    # A session opened on A is valid on B: signed cookies, one secret key, no worker state.
    with open(accounts_file, encoding="utf-8") as handle:  # e-mail, role label, password
        accounts = {line.split()[0]: line.split()[-1] for line in handle if line.strip()}
    email = "qualite@e2c-var.example"
    check(email in accounts, "the demo accounts file lists the quality lead")
    status, headers, body = a.request("GET", "/connexion")
    cookie = cookie_of(headers)
    csrf = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', body)
    check(status == 200 and bool(cookie) and csrf is not None, "A serves the login form")
    form = (f"csrf_token={csrf.group(1).decode()}&email={email}"
            f"&password={accounts[email]}").encode()
    status, headers, _body = a.request("POST", "/connexion", body=form, headers={
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    cookie = cookie_of(headers) or cookie
    check(status == 302 and "/connexion" not in headers.get("Location", ""), "login on A")
    status, headers, body = b.request("GET", "/preuves/", headers={"Cookie": cookie})
    check(status == 200 and b'data-testid="evidence-list"' in body,
          "the session opened on A is valid on B (the library, not the login page)")
    status, headers, _body = b.request("GET", "/preuves/")
    check(status == 302 and "/connexion" in headers.get("Location", ""),
          "B without the cookie sends to the login page")

    # A proof uploaded through B lands in the shared S3-compatible storage.
    boundary = uuid.uuid4().hex
    content = b"jour;entrees\n" + b"2018-02-28;12\n" * 50_000
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n"
            f"Tableau de bord smoke\r\n--{boundary}\r\nContent-Disposition: form-data; "
            f"name=\"file\"; filename=\"tableau.csv\"\r\nContent-Type: text/csv\r\n\r\n"
            ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
    status, _headers, reply = b.request("POST", "/api/v1/evidence", body=body, headers={
        **api, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    check(status == 201, f"upload through B ({status})")
    evidence = json.loads(reply)
    status, _headers, stored = a.request(
        "GET", f"/api/v1/evidence/{evidence['id']}/versions/1/file", headers=api)
    check(status == 200 and stored == content, "the proof uploaded through B is read back on A")

    # A dossier started through A is built by the RQ worker, followed and downloaded on B.
    status, _headers, reply = a.request("GET", "/api/v1/campaigns", headers=api)
    campaigns = json.loads(reply)
    campaign_id = (campaigns["items"] if isinstance(campaigns, dict) else campaigns)[0]["id"]
    options = json.dumps({"with_annexes": True, "with_zip": True}).encode()
    status, headers, reply = a.request(
        "POST", f"/api/v1/campaigns/{campaign_id}/dossier", body=options,
        headers={**api, "Content-Type": "application/json"})
    check(status == 202, f"dossier started through A ({status} {reply[:200]!r})")
    location = headers["Location"]
    deadline = time.monotonic() + TIMEOUT_S
    job: dict = {}
    while time.monotonic() < deadline:
        status, _headers, reply = b.request("GET", location, headers=api)
        job = json.loads(reply)
        if job["status"] in {"done", "failed"}:
            break
        time.sleep(1)
    check(job.get("status") == "done",
          f"the build is followed on B until done ({job.get('status')}, "
          f"{job.get('page_count')} pages, error: {job.get('error')})")
    status, headers, pdf = b.request("GET", urlsplit(job["pdf_url"]).path, headers=api)
    check(status == 200 and pdf.startswith(b"%PDF-") and len(pdf) > 10_000,
          f"the dossier PDF is downloaded from B ({len(pdf)} bytes)")
    status, headers, archive = b.request("GET", urlsplit(job["zip_url"]).path, headers=api)
    check(status == 200 and archive.startswith(b"PK") and b"manifest.csv" in archive,
          f"the dossier ZIP (proofs read back from S3 by the worker) from B ({len(archive)} "
          "bytes)")

    # B logged its requests: one line each, with the request id, the route and the user's id.
    with open(log_of_b, encoding="utf-8") as handle:
        lines = [line for line in handle if "route=/api/v1/jobs/<int:job_id> status=200" in line]
    check(bool(lines) and all(re.search(r"rid=\S+ .* duration_ms=[\d.]+ user=\d+$", line.strip())
                              for line in lines),
          "B's log has one line per request with its id, duration and user id")
    print(f"serve-smoke: {len(PASSED)} passed, 0 failed", flush=True)


if __name__ == "__main__":
    main()

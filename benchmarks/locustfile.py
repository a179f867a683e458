"""A quality lead's and a director's day against a served instance, for locust (``bench`` extra).

The instance is one that ``benchmarks/network_instance.py`` filled: accounts
``compteNN@e2c-SS.example`` share one password; ``compte00`` is each school's director,
``compte01`` and ``compte02`` its quality leads. Settings come from the environment:

- ``BENCH_PASSWORD`` (required): the password the generator printed;
- ``BENCH_SCHOOLS`` (5): how many schools the generator made; users are spread over them;
- ``BENCH_DOSSIER_SECONDS`` (3600): one dossier build per school in that time, each school's
  period starting at a random moment (a 2-minute run sees the hourly rate).

    .venv/bin/pip install -e '.[bench]'
    BENCH_PASSWORD=… .venv/bin/locust -f benchmarks/locustfile.py --headless -u 50 -r 5 \\
        -t 2m --host http://127.0.0.1:8000 --csv /tmp/load

Every page is named by its route, not its URL, so the statistics group the same page of every
school; ``/healthz`` (a bare JSON answer) gives the ratio against which the pages are read.
benchmarks/README.md (« locustfile.py ») has the figures and how they were taken.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import threading
import time
from html.parser import HTMLParser

from locust import HttpUser, between, task

PASSWORD = os.environ.get("BENCH_PASSWORD", "")
SCHOOLS = int(os.environ.get("BENCH_SCHOOLS", "5"))
DOSSIER_SECONDS = float(os.environ.get("BENCH_DOSSIER_SECONDS", "3600"))
SEARCH_WORDS = ["preuve", "compte rendu", "E2C", "Preuve 01", "accueil", "stagiaire"]

RNG = random.Random()  # noqa: S311 - which page to load next, not a secret
_next_seat = itertools.count()
_dossier_lock = threading.Lock()
_last_dossier: dict[int, float] = {}


class FormReader(HTMLParser):
    """The fields of every form on a page, with the values the page sets, as a browser sends."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self._select: str | None = None
        self._first_option: str | None = None
        self._selected = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            # A form without action posts to its page: named "" here; GET forms are left out.
            post = a.get("method", "get").lower() == "post"
            self.forms.append((a.get("action", "") if post else "\0get", []))
        elif not self.forms or "name" not in a and tag != "option":
            return
        elif tag == "input":
            kind = a.get("type", "text")
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            if kind not in {"submit", "button", "file"}:
                self.forms[-1][1].append((a["name"], a.get("value", "on" if kind == "checkbox"
                                                          else "")))
        elif tag == "select":
            self._select, self._first_option, self._selected = a["name"], None, False
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value", "")
            if "selected" in a:
                self.forms[-1][1].append((self._select, a.get("value", "")))
                self._selected = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select:
            if not self._selected and self._first_option is not None:
                self.forms[-1][1].append((self._select, self._first_option))
            self._select = None


def form_fields(html: str, action_part: str) -> dict[str, str | list[str]]:
    """The fields of the first POST form whose action contains ``action_part``, or of the first
    one posting to its own page (no action) when none does; repeated names are kept."""
    reader = FormReader()
    reader.feed(html)
    forms = [f for f in reader.forms if action_part and action_part in f[0]]
    for _action, fields in forms or [f for f in reader.forms if f[0] == ""]:
        values: dict[str, list[str]] = {}
        for name, value in fields:
            values.setdefault(name, []).append(value)
        return dict(values)
    raise LookupError(f"no form posting to {action_part}")


def pdf_of(size: int) -> bytes:
    """A valid PDF of about ``size`` bytes: one page, a comment stream filling the rest."""
    text = b"BT /F1 12 Tf 72 720 Td (Compte rendu de charge) Tj ET"
    filler = os.urandom(size // 2).hex().encode()[: max(0, size - 600)]
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(filler) + filler + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


class SchoolUser(HttpUser):
    """Logs in as one account of one school and learns its campaign, criteria and pré-audit."""

    abstract = True
    wait_time = between(2, 8)
    account = 0

    def on_start(self) -> None:
        seat = next(_next_seat)
        self.school = seat % SCHOOLS + 1
        email = f"compte{self.account:02d}@e2c-{self.school:02d}.example"
        page = self.client.get("/connexion", name="/connexion").text
        fields = form_fields(page, "connexion")
        fields.update(email=email, password=PASSWORD)
        answer = self.client.post("/connexion", data=fields, name="/connexion [POST]")
        found = re.search(r"/campagnes/(\d+)/", answer.text)
        if not found:
            raise RuntimeError(f"{email}: no campaign after login (wrong BENCH_PASSWORD?)")
        self.campaign = int(found.group(1))
        board = self.client.get(f"/campagnes/{self.campaign}/preparation",
                                name="dashboard").text
        self.criteria = sorted({int(n) for n in re.findall(
            rf"/campagnes/{self.campaign}/preparation/criteres/(\d+)", board)})
        # The generator makes each campaign's milestones in order: visite conseil, pré-audit,
        # audit, commission; the second one holds the findings.
        page = self.client.get(f"/campagnes/{self.campaign}", name="campaign").text
        audits = sorted({int(n) for n in re.findall(
            rf"/campagnes/{self.campaign}/audits/(\d+)", page)})
        self.pre_audit = audits[1] if len(audits) > 1 else None

    def dashboard(self) -> None:
        self.client.get(f"/campagnes/{self.campaign}/preparation", name="dashboard")

    def criterion(self) -> None:
        if self.criteria:
            self.client.get(f"/campagnes/{self.campaign}/preparation/criteres/"
                            f"{RNG.choice(self.criteria)}", name="criterion")

    def library(self) -> None:
        self.client.get("/preuves/", params={"q": RNG.choice(SEARCH_WORDS)},
                        name="library search")

    @task(1)
    def healthz(self) -> None:
        """The bare JSON answer every ratio is read against."""
        self.client.get("/healthz", name="/healthz")


class QualityLead(SchoolUser):
    """Files proofs all day, reads criteria, enters the pré-audit's findings."""

    weight = 3
    account = 1

    @task(4)
    def read_dashboard(self) -> None:
        self.dashboard()

    @task(6)
    def read_criterion(self) -> None:
        self.criterion()

    @task(4)
    def search_library(self) -> None:
        self.library()

    @task(2)
    def upload(self) -> None:
        """A 1–5 MB PDF linked to a criterion and sent to validation, as the upload page does."""
        page = self.client.get("/preuves/nouvelle", name="upload form").text
        fields = form_fields(page, "/preuves/nouvelle")
        fields.update(kind="fichier", title=f"Charge {RNG.getrandbits(48):012x}")
        if self.criteria:
            fields["criterion_id"] = str(RNG.choice(self.criteria))
        size = RNG.randint(1, 5) * 1024 * 1024
        with self.client.post("/preuves/nouvelle", data=fields,
                              files={"file": ("compte-rendu.pdf", pdf_of(size),
                                              "application/pdf")},
                              headers={"X-Requested-With": "fetch"}, name="upload 1-5 MB",
                              catch_response=True) as answer:
            if answer.status_code != 201:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")

    @task(2)
    def findings(self) -> None:
        """The pré-audit's findings page, then one finding entered on its fast line."""
        if not self.pre_audit:
            return
        url = f"/campagnes/{self.campaign}/audits/{self.pre_audit}"
        page = self.client.get(url, name="findings").text
        fields = form_fields(page, "/constats")
        fields.update(type_code="piste_progres", title="Constat de charge", criteria="")
        with self.client.post(f"{url}/constats", data=fields, name="finding [POST]",
                              catch_response=True) as answer:
            if "Constat n°" not in answer.text:
                answer.failure(f"{answer.status_code}: no finding recorded")

    @task(1)
    def dossier(self) -> None:
        """One build per school per BENCH_DOSSIER_SECONDS: the page, then the build. Each
        school's hour starts at a random moment, as a real network's builds are spread over the
        day: a short run sees the hourly rate, not every school building in its first minute."""
        with _dossier_lock:
            last = _last_dossier.setdefault(
                self.school, time.monotonic() - RNG.uniform(0, DOSSIER_SECONDS))
            if time.monotonic() - last < DOSSIER_SECONDS:
                return
            _last_dossier[self.school] = time.monotonic()
        url = f"/campagnes/{self.campaign}/dossier/nouveau"
        page = self.client.get(url, name="dossier form").text
        fields = form_fields(page, "/dossier/nouveau")
        self.client.post(url, data=fields, name="dossier build [POST]")


class Director(SchoolUser):
    """Reads the dashboard and criteria, searches the library, clears the validation queue."""

    weight = 1
    account = 0

    @task(6)
    def read_dashboard(self) -> None:
        self.dashboard()

    @task(3)
    def read_criterion(self) -> None:
        self.criterion()

    @task(2)
    def search_library(self) -> None:
        self.library()

    @task(3)
    def validate(self) -> None:
        """The queue, then one decision on its first proof (the next one opens)."""
        page = self.client.get("/preuves/a-valider", name="validation queue").text
        targets = re.findall(r"/preuves/a-valider/preuve/(\d+)", page)
        if not targets:
            return
        url = f"/preuves/a-valider/preuve/{targets[0]}"
        fields = form_fields(page, url)
        fields["decision"] = "valider"
        self.client.post(url, data=fields, name="validation [POST]")

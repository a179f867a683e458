"""How many dashboards a served instance answers per second, against a bare JSON endpoint on the
same server in the same run: the issue's « dashboard throughput ≥ 0.3 × /healthz ».

    .venv/bin/python benchmarks/page_throughput.py --host http://127.0.0.1:8717 \\
        --password … [--schools 56] [--seconds 20] [--connections 8]

It logs in as each school's first quality lead (``compte01@e2c-NN.example``, as
``benchmarks/network_instance.py`` makes them), finds each one's campaign, then drives the server
to saturation with ``wrk`` (Debian's package: a C client, so the client's own cost stays small
on the shared cores), in ``--rounds`` rounds: ``/healthz``, then every school's dashboard in
turn (each request with its school's session cookie); a last ``/healthz`` closes. Requests per
second, latency percentiles and non-2xx answers are wrk's. The ratio is the dashboards' rate
over ``/healthz``'s, of the medians and of the best runs: a run's rate depends on how its
connections were spread over the workers (they race to accept them; kept alive, all eight on one
worker leave a core idle: ``/healthz`` was seen at 1,900 and 3,300 a second, minutes apart).
The server is whatever runs at ``--host`` (``make serve``'s gunicorn, say): start it twice, once
with ``AUDIT_TRACKER_PAGE_CACHE=none``, to see the cache's part.
"""

from __future__ import annotations

import argparse
import http.client
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import median
from urllib.parse import urlencode, urlsplit


def session_cookie(answer: http.client.HTTPResponse, default: str) -> str:
    """The ``session=…`` pair an answer sets, or ``default`` when it sets none."""
    for header in answer.headers.get_all("Set-Cookie") or []:
        if header.startswith("session="):
            return header.split(";")[0]
    return default


def login(host: str, email: str, password: str) -> tuple[str, int]:
    """The session cookie and the campaign of ``email``, through the login form."""
    parts = urlsplit(host)
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=30)
    connection.request("GET", "/connexion")
    answer = connection.getresponse()
    page = answer.read().decode()
    cookie = session_cookie(answer, "")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    fields = {"email": email, "password": password, "csrf_token": token.group(1) if token else ""}
    connection.request("POST", "/connexion", body=urlencode(fields), headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    answer = connection.getresponse()
    answer.read()
    cookie = session_cookie(answer, cookie)
    if answer.status != 302:
        raise SystemExit(f"{email}: login answered {answer.status} (wrong --password?)")
    connection.request("GET", "/", headers={"Cookie": cookie})
    answer = connection.getresponse()
    found = re.search(r"/campagnes/(\d+)", answer.read().decode())
    if not found:
        raise SystemExit(f"{email}: no campaign on the home page")
    return cookie, int(found.group(1))


def visit(host: str, path: str, cookie: str) -> None:
    parts = urlsplit(host)
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=60)
    connection.request("GET", path, headers={"Cookie": cookie})
    answer = connection.getresponse()
    answer.read()
    if answer.status != 200:
        raise SystemExit(f"{path}: answered {answer.status}")


def lua_rotation(targets: list[tuple[str, str]]) -> str:
    """A wrk script sending each (path, cookie) in turn, per connection."""
    rows = ",\n".join(f'  {{"{path}", "{cookie}"}}' for path, cookie in targets)
    return f"""targets = {{
{rows}
}}
counter = 0
request = function()
  counter = counter + 1
  local target = targets[(counter % #targets) + 1]
  return wrk.format("GET", target[1], {{["Cookie"] = target[2]}})
end
"""


def run_wrk(url: str, seconds: int, connections: int, script: Path | None = None) -> dict:
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s",
               "--latency", url]
    if script is not None:
        command[1:1] = ["-s", str(script)]
    output = subprocess.run(command, capture_output=True, text=True,  # noqa: S603 - wrk, our args
                            check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    latency = dict(re.findall(r"\s+(50|90|99)%\s+([\d.]+\w+)", output))
    return {"rate": rate, "requests": total, "non_2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(1) if errors else "none", "latency": latency}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--schools", type=int, default=56)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    targets = []
    for school in range(1, args.schools + 1):
        cookie, campaign = login(args.host, f"compte01@e2c-{school:02d}.example", args.password)
        targets.append((f"/campagnes/{campaign}/preparation", cookie))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(lua_rotation(targets))
    script = Path(handle.name)
    try:
        # One visit of every dashboard first: what is measured is the visits that follow.
        for path, cookie in targets:
            visit(args.host, path, cookie)
        results = []
        for _round in range(args.rounds):
            results += [
                ("/healthz", run_wrk(args.host + "/healthz", args.seconds, args.connections)),
                ("dashboard", run_wrk(args.host, args.seconds, args.connections, script))]
        results.append(
            ("/healthz", run_wrk(args.host + "/healthz", args.seconds, args.connections)))
    finally:
        script.unlink()
    print(f"{len(targets)} schools' dashboards, {args.connections} connections, "
          f"{args.seconds} s each, {args.rounds} rounds")
    print(f"{'page':<10} {'req/s':>8} {'requests':>9} {'p50':>8} {'p90':>8} {'p99':>8} "
          f"{'non-2xx':>8}  socket errors")
    for name, r in results:
        lat = r["latency"]
        print(f"{name:<10} {r['rate']:>8.1f} {r['requests']:>9} {lat.get('50', '?'):>8} "
              f"{lat.get('90', '?'):>8} {lat.get('99', '?'):>8} {r['non_2xx']:>8}  "
              f"{r['socket_errors']}")
    for name, pick in (("medians", median), ("best runs", max)):
        healthz = pick(r["rate"] for page, r in results if page == "/healthz")
        dashboard = pick(r["rate"] for page, r in results if page == "dashboard")
        print(f"{name}: /healthz {healthz:.1f}, dashboard {dashboard:.1f} req/s; "
              f"dashboard / healthz throughput: {dashboard / healthz:.2f} (goal ≥ 0.3)")
    if any(r["non_2xx"] for _, r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()

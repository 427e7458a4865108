"""Load through the Envoy edge at 64 connections: REST with wrk, native gRPC with ghz.

Prints one JSON document: requests/s, p50 and p99 per scenario, the edge's rate limits the
run used, the resident memory of every mesh process, and how long ./scripts/up took.
"""
import argparse
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

import httpx

from bench import processes
from scripts.mesh.layout import CACHE, RUN
from services.kit import settings
from services.kit.settings import REPO_ROOT

EDGE = "127.0.0.1:8080"
GHZ = CACHE / "bin" / "ghz"
GHZ_MODULE = "github.com/bojand/ghz/cmd/ghz@v0.120.0"


def ensure_ghz() -> pathlib.Path:
    if not GHZ.exists():
        print("==> ghz: building from the Go module proxy (first time only)", file=sys.stderr)
        subprocess.run(["go", "install", GHZ_MODULE], check=True,
                       env=dict(os.environ, GOBIN=str(GHZ.parent)))
    return GHZ


def _milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(path: str, seconds: int, connections: int, headers: dict, script: str | None = None) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        if script:
            lua.write(script)
            lua.flush()
            command += ["-s", lua.name]
        output = subprocess.run(command + [f"http://{EDGE}{path}"], check=True,
                                capture_output=True, text=True).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)$", output, re.MULTILINE)
    return {
        "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": _milliseconds(percentiles["50"]),
        "p99_ms": _milliseconds(percentiles["99"]),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(1).strip() if errors else "none",
    }


def beside_references(label: str, path: str, headers: dict, auth: dict, seconds: int, connections: int) -> dict:
    """`path` under load (wrk), then GET /health and GET /auth/me from the same run: the figure
    with its share of /auth/me's requests/s, the comparison that holds across machines."""
    results = {label: wrk(path, seconds, connections, headers),
               "GET /health (REST)": wrk("/health", seconds, connections, {}),
               "GET /auth/me (REST)": wrk("/auth/me", seconds, connections, auth)}
    results[label]["share_of_auth_me"] = round(
        results[label]["requests_per_second"] / results["GET /auth/me (REST)"]["requests_per_second"], 3)
    return results


def ghz(call: str, proto: str, seconds: int, connections: int, metadata: dict, data: str = "{}") -> dict:
    """`call` ("package.Service/Method" in `proto`) over native gRPC through the edge."""
    command = [
        ensure_ghz(), "--insecure", "--proto", proto, "-i", "proto,gen/third_party", "--call", call,
        "-m", json.dumps(metadata), "-d", data,
        "-c", str(connections), "--connections", str(connections), "-z", f"{seconds}s",
        "--format", "json", EDGE,
    ]
    report = json.loads(subprocess.run([str(part) for part in command], check=True,
                                       capture_output=True, text=True, cwd=REPO_ROOT).stdout)
    latency = {entry["percentage"]: entry["latency"] / 1e6 for entry in report["latencyDistribution"]}
    # When -z runs out, ghz closes its connections under the call in flight on each: those
    # UNAVAILABLEs are the load generator's own, not answers of the edge.
    cut_off = sum(count for error, count in (report.get("errorDistribution") or {}).items()
                  if "use of closed network connection" in error)
    codes = dict(report["statusCodeDistribution"])
    codes["Unavailable"] = codes.get("Unavailable", 0) - cut_off
    return {
        "requests_per_second": round(report["rps"], 1),
        "p50_ms": round(latency[50], 2),
        "p99_ms": round(latency[99], 2),
        "requests": report["count"],
        "status_codes": {code: count for code, count in codes.items() if count},
        "cut_off_by_ghz_at_the_end": cut_off,
    }


LOGIN_SCRIPT = """
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.body = '{"email": "%s", "password": "%s"}'
"""


# The longest loan the calculator takes: 84 rows, and the ПСК solved over them.
LOAN_84_JSON = ('{"vehicle_price": {"amount": "3500000"}, "down_payment": {"amount": "700000"}, "term_months": 84, '
                '"annual_rate": "15.9", "charges": [{"kind": "CHARGE_KIND_LENDER_FEE", "amount": {"amount": "28000"}}]}')
LOAN_84_SCRIPT = f"""
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.body = '{LOAN_84_JSON}'
"""
# The same loan as a calculator widget asks for it as its inputs change: without the 84 rows.
LOAN_84_BASIC_SCRIPT = LOAN_84_SCRIPT.replace('}]}', '}], "view": "CALCULATION_VIEW_BASIC"}')


# An OSAGO quote as a visitor asks for it: today's tariff version, the regulator's coefficients.
OSAGO_SCRIPT = """
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.body = '{"product": "PRODUCT_OSAGO", "osago": {"vehicle_category": "B", "territory": "moscow", '
  .. '"power_hp": "150", "drivers": [{"age": 45, "experience_years": 20, "kbm_class": "10"}]}}'
"""


def alternating(target, reference, seconds: int, pairs: int = 3) -> dict:
    """`target` and `reference` (each a function of seconds returning wrk's or ghz's figures)
    run in turn, A B A B ..., `seconds` each split between the pairs. The target's figures are
    those of the pair with the median share of the reference's requests/s, with every pair's
    share: a share taken pair by pair holds while the machine's speed drifts (on a shared host it
    did by half within a minute), which a share of one reference measured earlier does not."""
    each = max(3, seconds // pairs)
    runs = []
    for _ in range(pairs):
        measured = target(each)
        runs.append((measured, reference(each)))
    runs.sort(key=lambda run: run[0]["requests_per_second"] / run[1]["requests_per_second"])
    measured, beside = runs[len(runs) // 2]
    return {**measured, "reference_requests_per_second": beside["requests_per_second"],
            "share_of_auth_me": round(measured["requests_per_second"] / beside["requests_per_second"], 2),
            "shares_pair_by_pair": [round(a["requests_per_second"] / b["requests_per_second"], 2) for a, b in runs]}


ROTATE_SCRIPT = """
paths = {%s}
local next_path = 0
request = function()
  next_path = next_path %% #paths + 1
  return wrk.format("GET", paths[next_path])
end
"""


def catalogue_searches(pages: int = 3) -> list[str]:
    """Showroom searches as visitors make them: filters, orderings and the first few pages of
    each (followed by their page tokens), every one a distinct URL."""
    paths = []
    with httpx.Client(base_url=f"http://{EDGE}", timeout=10) as client:
        for spec in ("", "power_hp >= 120", "power_hp >= 150", "power_hp >= 200"):
            for price_max in ("", "3000000", "5000000"):
                for order_by in ("price", "price desc", "year desc"):
                    query = {"order_by": order_by, "page_size": "10"}
                    query |= {"filter": spec} if spec else {}
                    query |= {"price_max": price_max} if price_max else {}
                    for _ in range(pages):
                        url = httpx.URL("/catalog/models", params=query)
                        answer = client.get(url)
                        answer.raise_for_status()
                        paths.append(str(url.raw_path, "ascii"))
                        token = answer.json()["next_page_token"]
                        if not token:
                            break
                        query["page_token"] = token
    return paths


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if args.seconds < 3:
        parser.error("--seconds must be at least 3: the reads during the login flood start a second "
                     "after it and end a second before it")
    # All the load comes from this one address, standing for a showroom's worth of visitors:
    # the default per-address budget is lifted for the run (the strict one is what the login
    # flood measures). The figures name the limits the run had.
    os.environ.setdefault("AUTOSALON_EDGE_DEFAULT_REQUESTS", "1000000")
    # A warm start: tools built and data present, every process stopped.
    subprocess.run([sys.executable, "-m", "scripts.mesh", "down"], check=True,
                   stdout=subprocess.DEVNULL)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "scripts.mesh", "up"], check=True,
                   stdout=subprocess.DEVNULL)
    up_seconds = round(time.monotonic() - started, 2)
    config = settings.load()
    email, password = config.admin_email, config.admin_password
    token = httpx.post(f"http://{EDGE}/auth/login", json={"email": email, "password": password},
                       timeout=10).json()["access_token"]
    auth = {"authorization": f"Bearer {token}"}
    seconds, connections = args.seconds, args.connections
    results = {
        "scripts_up_seconds_warm": up_seconds,
        "connections": connections,
        "seconds_each": seconds,
        "edge_settings": json.loads((RUN / "envoy" / "limits.json").read_text())
        if (RUN / "envoy" / "limits.json").exists() else None,
        "GET /health (REST)": wrk("/health", seconds, connections, {}),
        "GET /auth/me (REST)": wrk("/auth/me", seconds, connections, auth),
        "GetCurrentUser (native gRPC)": ghz(
            "autosalon.auth.v1.AuthService/GetCurrentUser", "proto/autosalon/auth/v1/auth.proto",
            seconds, connections, auth),
        "POST /auth/login (REST)": wrk("/auth/login", seconds, connections, {},
                                       LOGIN_SCRIPT % (email, password)),
    }
    # Public and stateless, but the heaviest arithmetic behind the edge: each should reach at
    # least half of /auth/me's requests/s (GetCurrentUser's over native gRPC), alternating with it.
    def auth_me(each: int) -> dict:
        return wrk("/auth/me", each, connections, auth)

    results["POST /financing/calculations, 84 months with ПСК (REST)"] = alternating(
        lambda each: wrk("/financing/calculations", each, connections, {}, LOAN_84_SCRIPT), auth_me, seconds)
    results["POST /financing/calculations, 84 months with ПСК, BASIC view: no rows (REST)"] = alternating(
        lambda each: wrk("/financing/calculations", each, connections, {}, LOAN_84_BASIC_SCRIPT), auth_me, seconds)
    results["CalculateLoan, 84 months with ПСК (native gRPC)"] = alternating(
        lambda each: ghz("autosalon.financing.v1.FinancingService/CalculateLoan",
                         "proto/autosalon/financing/v1/financing.proto", each, connections, {}, LOAN_84_JSON),
        lambda each: ghz("autosalon.auth.v1.AuthService/GetCurrentUser", "proto/autosalon/auth/v1/auth.proto",
                         each, connections, auth), seconds)
    results["POST /insurance/quotes, OSAGO, anonymous (REST)"] = alternating(
        lambda each: wrk("/insurance/quotes", each, connections, {}, OSAGO_SCRIPT), auth_me, seconds)
    searches = catalogue_searches()
    rotation = ROTATE_SCRIPT % ", ".join(json.dumps(path) for path in searches)
    results["catalogue_searches_rotated"] = len(searches)
    # Steady state: every catalog instance and the edge cache have seen each search once.
    wrk(searches[0], 5, connections, {}, rotation)
    # Anonymous visitors: the edge answers a search it saw less than a few seconds ago itself.
    results["GET /catalog/models search, anonymous (REST, filters + paging, edge cache)"] = wrk(
        searches[0], seconds, connections, {}, rotation)
    # Signed-in staff: never from a cache, every search reaches catalog and PostgreSQL.
    results["GET /catalog/models search, signed in (REST, filters + paging, no cache)"] = wrk(
        searches[0], seconds, connections, auth, rotation)
    # A flood of logins and reads at once: reads must stay fast, logins be refused fast.
    flood = subprocess.Popen(
        [sys.executable, "-c", "import bench.edge as b, json, sys; "
         f"print(json.dumps(b.wrk('/auth/login', {seconds}, 32, {{}}, "
         f"b.LOGIN_SCRIPT % ({email!r}, {password!r}))))"],
        stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT,
    )
    time.sleep(1)
    results["GET /auth/me during a login flood (REST, 32 conns)"] = wrk(
        "/auth/me", seconds - 2, 32, auth)
    results["POST /auth/login flood (REST, 32 conns)"] = json.loads(flood.communicate()[0])
    results["resident_memory_mib"] = processes.resident_memory()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

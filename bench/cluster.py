"""Purchases on a cluster of three nodes (./scripts/up --cluster) while one NATS server and one
Consul server are down, beside the same with all up; then every order and every event reckoned.

After a purchase per buyer to warm the mesh up, three rounds of purchases go through the edge,
each a quarter of: paid by card and handed over, paid with a promo code, declined by the card's
issuer, cancelled by the buyer (bench.chaos):
1. all nodes up;
2. one node down: the Consul server leading the Raft peers and its node's NATS server (which
   leads its share of the streams) are SIGKILLed as the round starts and kept down through it;
   one purchase alone first, timed apart (it waits out the elections and the clients'
   failover), then the rest;
3. both started again, once the round before has ended.
Then, once every consumer has caught up: each order ended completed or cancelled and agrees with
payment, inventory and pricing (bench.chaos.reckoning); each stream holds every event its
service's outbox recorded exactly once (none lost in a failover, none doubled by a resend); every
service still has all its instances healthy in Consul. With --references, GET /health and GET
/auth/me from the same run (wrk, all nodes up) stand beside the purchases/s, as the figures to
compare across machines. Prints one JSON document; exits 1 when a check fails. Loopback only,
bounded in time.
"""
import argparse
import asyncio
import json
import sys
import time

import aiohttp
import uvloop

from bench.chaos import CONFIG, KINDS, Buyer, caught_up, prepared, reckoning, rows
from bench.edge import wrk
from bench.saga import sign_in
from scripts.mesh import access, probes, supervisor
from scripts.mesh.layout import SERVICES, consul_agents, instances, nats_servers
from services.kit.bus import Bus
from services.kit.subjects import stream_name

ROUNDS = ("all nodes up", "one node down", "node back")


async def _node_to_kill() -> tuple[list[str], int]:
    """The Consul and NATS servers of the node whose Consul server leads the Raft peers (its loss
    costs an election there, and one for each stream its NATS server leads), and how many streams
    that NATS server leads."""
    raft_leader = int(access.consul("GET", "/v1/status/leader", CONFIG.consul_acl_token).rsplit(":", 1)[1])
    consul = next(agent for agent in consul_agents() if agent.server and agent.rpc_port == raft_leader)
    nats = next(server for server in nats_servers() if server.node == consul.node)
    bus = Bus(CONFIG.nats_url, login=CONFIG.nats_login)
    await bus.connect()
    try:
        leaders = [(await bus.js.stream_info(stream_name(service))).cluster.leader for service in SERVICES]
    finally:
        await bus.close()
    return [nats.program, consul.program], leaders.count(nats.server_name)


async def _kill(program: str, seconds: float = 30) -> None:
    """SIGKILL, then kept down: supervisord starts a killed program again, and is told to stop
    it until it has."""
    deadline = time.monotonic() + seconds
    await asyncio.to_thread(supervisor.ctl, "signal", "KILL", program, check=False)
    while "STOPPED" not in (await asyncio.to_thread(supervisor.ctl, "status", program, check=False)).stdout:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{program} did not stay down after its kill")
        await asyncio.to_thread(supervisor.ctl, "stop", program, check=False)
        await asyncio.sleep(0.1)


def _rejoined(nats_program: str) -> float:
    """Seconds until the restarted NATS server's JetStream is current and Consul has three
    servers and a leader again."""
    started = time.monotonic()
    monitor = next(server.monitor_port for server in nats_servers() if server.program == nats_program)
    token = CONFIG.consul_acl_token
    probes.wait(f"{nats_program} current", lambda: probes.get(f"http://127.0.0.1:{monitor}/healthz"), timeout=120)
    probes.wait("consul's three servers", lambda: len(access.consul("GET", "/v1/status/peers", token)) == 3
               and access.consul("GET", "/v1/status/leader", token), timeout=120)
    return round(time.monotonic() - started, 1)


def events_once() -> dict[str, dict]:
    """Per service: the events its outbox recorded, and those its stream holds (its shipped log
    batches, sent past the outbox, left out). Equal when none was lost or doubled."""
    async def count() -> dict[str, dict]:
        bus = Bus(CONFIG.nats_url, login=CONFIG.nats_login)
        await bus.connect()
        try:
            found = {}
            for service in SERVICES:
                recorded = rows(service, "SELECT count(*) FROM outbox")[0][0]
                info = await bus.js.stream_info(stream_name(service), subjects_filter=">")
                logs = sum(number for subject, number in (info.state.subjects or {}).items()
                           if subject.startswith(f"autosalon.{service}.system."))
                found[service] = {"outbox": recorded, "stream": info.state.messages - logs}
            return found
        finally:
            await bus.close()
    return asyncio.run(count())


async def rounds(per_round: int, concurrency: int) -> dict:
    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        edge = Buyer(session)
        warm_up = concurrency
        code, one = await prepared(edge, warm_up + per_round * len(ROUNDS), concurrency, "Node")
        report, orders, failures, down = {}, {}, [], []

        def account(name: str, indices: list[int], results: list) -> int:
            """Keeps each purchase's order or failure; how many completed."""
            orders.update({result: KINDS[index % len(KINDS)] for index, result in zip(indices, results)
                           if isinstance(result, str)})
            failures.extend(f"{name}: {result}" for result in results if not isinstance(result, str))
            return sum(isinstance(result, str) for result in results)

        # A purchase per buyer first, unmeasured (reckoned all the same): the services' first calls
        # open connections and fill caches, which would count against the first round.
        account("warm-up", list(range(warm_up)), await asyncio.gather(
            *(one(index) for index in range(warm_up)), return_exceptions=True))
        try:
            for number, name in enumerate(ROUNDS):
                indices = list(range(warm_up + number * per_round, warm_up + (number + 1) * per_round))
                if name == "one node down":
                    down, report["streams_its_nats_server_led"] = await _node_to_kill()
                    report["killed"] = list(down)
                    for program in down:
                        await _kill(program)
                    # The failover's cost apart: one purchase alone, before the round's own.
                    started = time.monotonic()
                    account(name, indices[:1], await asyncio.gather(one(indices[0]), return_exceptions=True))
                    report["first_purchase_after_the_kill_seconds"] = round(time.monotonic() - started, 1)
                    indices = indices[1:]
                if name == "node back":
                    for program in down:
                        await asyncio.to_thread(supervisor.ctl, "start", program)
                    report["seconds_to_rejoin"] = await asyncio.to_thread(_rejoined, down[0])
                    down = []
                Buyer.calls = Buyer.unanswered = 0
                started = time.monotonic()
                results = await asyncio.gather(*(one(index) for index in indices), return_exceptions=True)
                seconds = time.monotonic() - started
                done = account(name, indices, results)
                report[name] = {"purchases": done, "seconds": round(seconds, 1),
                                "purchases_per_second": round(done / seconds, 2),
                                "calls_the_mesh_could_not_answer": Buyer.unanswered}
        finally:
            for program in down:  # a round cut short leaves nothing stopped
                supervisor.ctl("start", program, check=False)
    report["buyers_failed"], report["first_failures"] = len(failures), failures[:3]
    report["behind_after_the_run"] = await caught_up()
    broken = reckoning(orders, code)
    report["checks"] = {rule: {"ok": not names, "orders": names[:10]} for rule, names in broken.items()}
    return report


def _signed_in_header() -> dict:
    async def token() -> dict:
        async with aiohttp.ClientSession() as session:
            return await sign_in(Buyer(session), CONFIG.admin_email, CONFIG.admin_password)
    return asyncio.run(token())


def main() -> int:
    parser = argparse.ArgumentParser(prog="./bench/run cluster")
    parser.add_argument("--purchases", type=int, default=40, help="purchases in each of the three rounds")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--references", action="store_true",
                        help="GET /health and GET /auth/me beside the figures (wrk), all nodes up")
    args = parser.parse_args()
    if len(nats_servers()) < 3:
        sys.exit("the mesh is not a cluster: AUTOSALON_CLUSTER_NODES=3 (./scripts/up --cluster)")
    result = {"nodes": len(nats_servers()), "concurrency": args.concurrency}
    if args.references:
        auth = _signed_in_header()
        result["references"] = {"GET /health (REST)": wrk("/health", 3, 32, {}),
                                "GET /auth/me (REST)": wrk("/auth/me", 3, 32, auth)}
    result.update(uvloop.run(rounds(args.purchases, args.concurrency)))
    counts = events_once()
    result["events_exactly_once"] = {"ok": all(count["outbox"] == count["stream"] for count in counts.values()),
                                     "per_service": counts}
    passing = {service: probes.passing(service) for service in SERVICES}
    result["instances_healthy_in_consul"] = {"ok": all(passing[service] == instances(service) for service in SERVICES),
                                             "per_service": passing}
    if args.references:
        auth_me = result["references"]["GET /auth/me (REST)"]["requests_per_second"]
        for name in ROUNDS:
            result[name]["per_thousand_auth_me"] = round(1000 * result[name]["purchases_per_second"] / auth_me, 2)
    result["one_node_down_to_all_up"] = round(
        result["one node down"]["purchases_per_second"] / result["all nodes up"]["purchases_per_second"], 2)
    print(json.dumps(result, indent=2))
    consistent = (not result["behind_after_the_run"] and all(check["ok"] for check in result["checks"].values())
                  and result["events_exactly_once"]["ok"] and result["instances_healthy_in_consul"]["ok"])
    return 0 if consistent else 1


if __name__ == "__main__":
    sys.exit(main())

"""GET /monitoring/metrics: every healthy instance's Prometheus text (kit.metrics, at the port
each registered in Consul as `metrics_port`) and Envoy's own, asked in parallel with a deadline,
merged into one document whose samples name their service and instance."""
import asyncio
from dataclasses import dataclass

import httpx
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from services.kit.registry import Consul

EDGE = "edge"
DEADLINE_SECONDS = 1.0
# What the edge passes in one answer (Envoy's buffer for a connection, 1 MiB), less a margin.
LARGEST_DOCUMENT = 960 * 1024
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class Target:
    service: str
    instance: str
    url: str


@dataclass(frozen=True)
class Scraped:
    target: Target
    text: str = ""
    problem: str = ""


async def targets(consul: Consul, services: list[str], envoy_admin_url: str) -> list[Target]:
    """Each healthy instance that serves metrics, then the edge."""
    found = []
    for service, (instances, _) in zip(services, await asyncio.gather(*(consul.healthy(s) for s in services))):
        found += [Target(service, instance.target, f"http://{instance.address}:{instance.meta['metrics_port']}/metrics")
                  for instance in instances if instance.meta.get("metrics_port")]
    # Only the stats Envoy has updated: the rest are zeros for every cluster, a third of a megabyte.
    return [*found, Target(EDGE, envoy_admin_url.removeprefix("http://"),
                           f"{envoy_admin_url}/stats/prometheus?usedonly")]


async def scrape(targets: list[Target], seconds: float = DEADLINE_SECONDS) -> list[Scraped]:
    async def one(client: httpx.AsyncClient, target: Target) -> Scraped:
        try:
            response = await client.get(target.url)
            response.raise_for_status()
            return Scraped(target, text=response.text)
        except httpx.HTTPError as error:
            return Scraped(target, problem=type(error).__name__)

    async with httpx.AsyncClient(timeout=seconds) as client:
        return list(await asyncio.gather(*(one(client, target) for target in targets)))


class _Families(Collector):
    def __init__(self, families: list[Metric]):
        self.families = families

    def collect(self):
        return self.families


def merged(scraped: list[Scraped], prefix: str = "") -> str:
    """One Prometheus text document of every answer, each sample labelled with its `service` and
    `instance`, the metrics whose names start with `prefix`; a comment line names each target
    that did not answer, or whose answer could not be read. Without a prefix, histograms keep
    their count and sum but not their buckets (two thirds of the whole, and more than the edge
    passes once every method of a busy mesh has been called)."""
    families: dict[str, Metric] = {}
    problems = [answer for answer in scraped if answer.problem]
    for answer in scraped:
        if answer.problem:
            continue
        try:
            read = [family for family in text_string_to_metric_families(answer.text)
                    if family.name.startswith(prefix)]
        except ValueError:
            problems.append(Scraped(answer.target, problem="unreadable"))
            continue
        origin = {"service": answer.target.service, "instance": answer.target.instance}
        for family in read:
            into = families.setdefault(family.name, Metric(family.name, family.documentation, family.type))
            for sample in family.samples:
                if not prefix and family.type == "histogram" and sample.name.endswith("_bucket"):
                    continue
                into.add_sample(sample.name, {**sample.labels, **origin}, sample.value, sample.timestamp)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(list(families.values())))
    notes = "".join(f"# unreachable: {answer.target.service} {answer.target.instance} ({answer.problem})\n"
                    for answer in problems)
    return notes + generate_latest(registry).decode()

"""monitoring's use cases: the shipped records kept, searched and followed by trace."""
import datetime
import uuid

from autosalon.monitoring.v1 import monitoring_pb2
from google.api import httpbody_pb2
from mesh.v1 import logs_pb2
from services.kit import paging
from services.kit.db import Database, now
from services.kit.protos import timestamp
from services.kit.errors import FailedPrecondition, InvalidArgument, NotFound

from . import domain, scrape
from .convert import LEVEL_NAME, record_to_proto
from .store import log_records


def _moment(stamp) -> datetime.datetime:
    return stamp.ToDatetime(tzinfo=datetime.timezone.utc)


def _as_compared(checks) -> list[tuple]:
    """A service's checks as the pass compares them with what is kept: all but since when."""
    return sorted((check["check_id"], check["instance"], check["name"], check["status"], check["output"])
                  for check in checks)


class MonitoringHandlers:
    def __init__(self, database: Database, consul=None, services: list[str] = (), envoy_admin_url: str = ""):
        self.database = database
        self.consul = consul
        # Every service the mesh runs (one with no instance registered is still listed).
        self.services = list(services)
        self.envoy_admin_url = envoy_admin_url

    async def keep(self, uow, batch: logs_pb2.LogBatch) -> None:
        """A batch one instance shipped (an unknown level counts as an error)."""
        await uow.repository.keep([{
            "id": uuid.uuid4(), "service": record.service, "instance": record.instance, "level": record.level,
            "severity": domain.SEVERITY.get(record.level, domain.SEVERITY["error"]), "logger": record.logger,
            "message": record.message, "trace_id": record.trace_id, "rpc": record.rpc,
            "logged_at": _moment(record.time), "error": record.error, "duration_ms": record.duration_ms}
            for record in batch.records])

    async def keep_edge_steps(self, batch: logs_pb2.LogBatch) -> None:
        async with self.database.unit_of_work() as uow:
            await self.keep(uow, batch)

    async def search(self, request: monitoring_pb2.ListLogRecordsRequest
                     ) -> tuple[list[monitoring_pb2.LogRecord], str]:
        domain.check_search(request.text, request.trace_id, request.service)
        if request.min_level not in LEVEL_NAME and request.min_level != monitoring_pb2.LEVEL_UNSPECIFIED:
            raise InvalidArgument({"min_level": "must be LEVEL_INFO, LEVEL_WARNING, LEVEL_ERROR or LEVEL_CRITICAL"})
        conditions, query = [], {"service": request.service, "level": request.min_level, "trace": request.trace_id,
                                 "text": request.text}
        if request.service:
            conditions.append(log_records.c.service == request.service)
        least = LEVEL_NAME[request.min_level] if request.min_level else domain.LEAST_SEARCHED
        conditions.append(log_records.c.severity >= domain.SEVERITY[least])
        if request.trace_id:
            conditions.append(log_records.c.trace_id == request.trace_id)
        if request.HasField("start_time"):
            conditions.append(log_records.c.logged_at >= _moment(request.start_time))
            query["from"] = request.start_time.ToJsonString()
        if request.HasField("end_time"):
            conditions.append(log_records.c.logged_at < _moment(request.end_time))
            query["until"] = request.end_time.ToJsonString()
        size = paging.page_size(request.page_size)
        after = paging.time_position(paging.decode_token(request.page_token, query))
        async with self.database.reading() as uow:
            rows = await uow.repository.page(conditions, request.text, size, after)
        shown, token = paging.newest_page(rows, size, query, moment="logged_at")
        return [record_to_proto(row) for row in shown], token

    async def trace(self, trace_id: str) -> monitoring_pb2.Trace:
        domain.check_trace_id(trace_id)
        async with self.database.reading() as uow:
            rows = await uow.repository.trace(trace_id)
        if not rows:
            raise NotFound(f"no record of trace {trace_id} was kept")
        trace = monitoring_pb2.Trace(trace_id=trace_id, services=list(dict.fromkeys(row.service for row in rows)))
        for row, since in zip(rows, domain.since_previous_ms([row.logged_at for row in rows])):
            trace.steps.add(record=record_to_proto(row), since_previous_ms=since)
        return trace

    async def watch_checks(self) -> None:
        """One pass: every service's Consul checks, as they are now, kept with since when. One
        question to Consul, one read of what is kept, and a write only for the services whose
        checks changed (a pass every two seconds, and they seldom do)."""
        at = now()
        found: dict[str, list[dict]] = {service: [] for service in self.services}
        for check in await self.consul.every_check():
            if check.get("ServiceName") in found:
                found[check["ServiceName"]].append({
                    "check_id": check["CheckID"], "service": check["ServiceName"],
                    "instance": check.get("ServiceID", ""), "name": check.get("Name", ""),
                    "status": check.get("Status", "critical"), "output": (check.get("Output") or "")[:1000],
                    "since": at})
        kept: dict[str, list[dict]] = {service: [] for service in self.services}
        async with self.database.reading() as uow:
            for row in await uow.repository.all_checks():
                kept.setdefault(row.service, []).append(row._asdict())
        for service, checks in found.items():
            if _as_compared(checks) == _as_compared(kept[service]):
                continue
            async with self.database.unit_of_work() as uow:
                await uow.repository.see_checks(service, checks)

    async def metrics(self, service: str, prefix: str) -> httpbody_pb2.HttpBody:
        domain.check_metrics_filter(service, prefix, [*self.services, scrape.EDGE])
        every = await scrape.targets(self.consul, self.services, self.envoy_admin_url)
        answers = await scrape.scrape([target for target in every if service in ("", target.service)])
        document = scrape.merged(answers, prefix).encode()
        if len(document) > scrape.LARGEST_DOCUMENT:
            raise FailedPrecondition(
                f"the metrics asked for come to {len(document) // 1024} KiB, more than the edge passes in one "
                f"answer ({scrape.LARGEST_DOCUMENT // 1024} KiB): ask for one service or a prefix, or scrape "
                "the instances (Consul lists them with their metrics_port)")
        return httpbody_pb2.HttpBody(content_type=scrape.CONTENT_TYPE, data=document)

    async def service_health(self) -> monitoring_pb2.ListServiceHealthResponse:
        async with self.database.reading() as uow:
            rows = await uow.repository.all_checks()
        by_instance: dict[str, dict[str, list]] = {service: {} for service in self.services}
        for row in rows:
            by_instance.setdefault(row.service, {}).setdefault(row.instance, []).append(row)
        answer = monitoring_pb2.ListServiceHealthResponse()
        for service, instances in sorted(by_instance.items()):
            health = answer.services.add(name=service)
            for instance, checks in instances.items():
                health.instances.add(id=instance, status=domain.worst(check.status for check in checks), checks=[
                    monitoring_pb2.CheckState(name=check.name, status=check.status, output=check.output,
                                              since=timestamp(check.since)) for check in checks])
            health.status = domain.service_status([instance.status for instance in health.instances])
        return answer

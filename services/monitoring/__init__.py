"""monitoring: the operator's view. Every service's log records at WARNING and above and the
steps of sampled traces, shipped as events and kept here (with the edge's access log lines of the
sampled requests, sent over OTLP), searched, and followed across services by trace id; every
service's health as Consul sees it, with since when each check is in its state."""
from dataclasses import dataclass

from services.kit.manifest import Service
from services.kit.settings import setting


@dataclass(frozen=True)
class MonitoringSettings:
    envoy_admin_url: str = setting("http://127.0.0.1:9901", "AUTOSALON_MONITORING_ENVOY_ADMIN_URL",
                                   "where monitoring asks Envoy for its own metrics (/stats/prometheus)")


SERVICE = Service("monitoring", core_weight=0.1, settings=MonitoringSettings)

"""monitoring: the operator's view. Every service's log records at WARNING and above and the
steps of sampled traces, shipped as events and kept here (with the edge's access log lines of the
sampled requests, sent over OTLP), searched, and followed across services by trace id; every
service's health as Consul sees it, with since when each check is in its state."""
from services.kit.manifest import Service

SERVICE = Service("monitoring", core_weight=0.1)

"""monitoring: the operator's view. Every service's log records at WARNING and above, shipped
as events and kept here, searched, and followed across services by trace id; every service's
health as Consul sees it, with since when each check is in its state."""
from services.kit.manifest import Service

SERVICE = Service("monitoring", core_weight=0.1)

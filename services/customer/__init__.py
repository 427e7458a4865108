"""customer: the CRM — profiles, interactions, tags, segments and purchase history."""
from services.kit.manifest import Service

SERVICE = Service("customer", core_weight=1.6)

"""notification: turns the mesh's events into messages (email over SMTP, SMS and push through
their providers) from templates, by each customer's preferences. So far: the templates (listed
and previewed by staff), the preferences, and the contacts kept from auth's account events."""
from services.kit.manifest import Service

SERVICE = Service("notification", core_weight=0.1)

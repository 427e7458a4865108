"""config: the dealership's branches, salespeople and settings; setting values changed here
reach the services that apply them while they run (kit.live_settings)."""
from services.kit.manifest import Service

SERVICE = Service("config", core_weight=0.1, seed="services.config.seed:declare_and_open")

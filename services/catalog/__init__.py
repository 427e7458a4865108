"""catalog: vehicle models and their trims, prices with their history, search."""
from services.kit.manifest import Service

SERVICE = Service("catalog", instances=2, core_weight=0.1, seed="services.catalog.demo:load_showroom")

"""overview: the edge's own page, GET /: the platform's version and every service's state,
composed from each service's stats (mesh.v1.StatsService) in parallel, each with a deadline."""
from dataclasses import dataclass

from services.kit.manifest import Service
from services.kit.settings import setting


@dataclass(frozen=True)
class OverviewSettings:
    stats_deadline_ms: int = setting(500, "AUTOSALON_OVERVIEW_STATS_DEADLINE_MS",
                                     "how long GET / waits for each service's stats before naming it unavailable",
                                     minimum=50, maximum=10000, hot=True)


SERVICE = Service("overview", core_weight=0.1, settings=OverviewSettings)

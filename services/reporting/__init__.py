"""reporting: the read side (CQRS). Read models built only from the events of the other
services, and the reports staff read from them."""
from dataclasses import dataclass

from services.kit.manifest import Service
from services.kit.settings import setting


@dataclass(frozen=True)
class ReportingSettings:
    time_zone: str = setting("Europe/Moscow", "AUTOSALON_REPORTING_TIME_ZONE",
                             "the zone whose calendar days the reports count in")
    pdf_font: str = setting("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "AUTOSALON_REPORTING_PDF_FONT",
                            "a TrueType font with Cyrillic for the reports' PDFs (Debian's fonts-dejavu-core)")


SERVICE = Service("reporting", core_weight=0.1, settings=ReportingSettings)

"""A new installation's workshop, written by ./scripts/up before the mesh starts: the usual kinds
of job, and mechanics at the first branch (config's seed opens it), unless there are some."""
import uuid

import sqlalchemy as sa

from services.kit.db import now
from services.kit.settings import Settings

from .store import job_types, mechanics

JOB_TYPES = (
    ("oil-change", "Oil and filter change", 60, "maintenance"),
    ("scheduled-service", "Scheduled maintenance", 120, "maintenance"),
    ("diagnostics", "Computer diagnostics", 45, "diagnostics"),
    ("tyre-change", "Seasonal tyre change", 30, "tyres"),
    ("brake-repair", "Brake pads and discs", 120, "repair"),
    ("body-repair", "Body panel repair", 240, "bodywork"),
)
MECHANICS = (
    ("Sergei Volkov", ["maintenance", "repair", "diagnostics"]),
    ("Andrei Morozov", ["maintenance", "tyres"]),
    ("Dmitri Sokolov", ["repair", "bodywork"]),
    ("Pavel Lebedev", ["diagnostics", "maintenance", "tyres"]),
)
FIRST_BRANCH = "moscow-central"


def open_workshop(settings: Settings) -> str:
    at = now()
    engine = sa.create_engine(settings.database_url("booking"), poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            if connection.execute(sa.select(sa.func.count()).select_from(job_types)).scalar_one():
                return "workshop present"
            audit = {"created_at": at, "updated_at": at, "created_by": "", "updated_by": ""}
            connection.execute(job_types.insert(), [
                {"id": code, "display_name": name, "duration_minutes": minutes, "skill": skill, "active": True,
                 **audit} for code, name, minutes, skill in JOB_TYPES])
            connection.execute(mechanics.insert(), [
                {"id": uuid.uuid4(), "display_name": name, "branch_id": FIRST_BRANCH, "skills": skills, "hours": [],
                 "days_off": [], "active": True, "version": 1, **audit} for name, skills in MECHANICS])
            return f"workshop opened: {len(JOB_TYPES)} job types, {len(MECHANICS)} mechanics at {FIRST_BRANCH}"
    finally:
        engine.dispose()

"""A service instance's threads on the one core the mesh gave it (scripts/mesh/cores.py says
why); CPU-heavy worker threads let out onto every core the process may use."""
import os

# Set by ./scripts/up: the core this instance runs on. Unset (one core, or under compose), the
# process runs anywhere.
CORE = "AUTOSALON_CORE"

_every_core: set[int] | None = None


def pin_from_environment() -> None:
    """Moves every thread of this process (and so those it starts later) onto its core, when
    the environment names one."""
    global _every_core
    named = os.environ.get(CORE, "")
    if not named:
        return
    core = int(named)
    _every_core = os.sched_getaffinity(0)
    for thread in os.listdir("/proc/self/task"):
        os.sched_setaffinity(int(thread), {core})


def anywhere() -> None:
    """For a worker thread doing CPU-heavy work: every core the process could use before it
    was pinned."""
    if _every_core is not None:
        os.sched_setaffinity(0, _every_core)

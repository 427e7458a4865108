"""A service instance's threads on the one core the mesh gave it (scripts/mesh/cores.py says
why); CPU-heavy worker threads let out onto every core the process may use."""
import os

# Set by ./scripts/up: the core of each instance of the service, in instance order, and which
# instance this process is. Unset (one core, or under compose), the process runs anywhere.
CORES = "AUTOSALON_CORES"
INSTANCE = "AUTOSALON_INSTANCE"

_every_core: set[int] | None = None


def pin_from_environment() -> None:
    """Moves every thread of this process (and so those it starts later) onto its core, when
    the environment names one."""
    global _every_core
    listed = os.environ.get(CORES, "")
    if not listed:
        return
    cores = [int(core) for core in listed.split(",")]
    core = cores[int(os.environ.get(INSTANCE, "0")) % len(cores)]
    _every_core = os.sched_getaffinity(0)
    for thread in os.listdir("/proc/self/task"):
        os.sched_setaffinity(int(thread), {core})


def anywhere() -> None:
    """For a worker thread doing CPU-heavy work: every core the process could use before it
    was pinned."""
    if _every_core is not None:
        os.sched_setaffinity(0, _every_core)

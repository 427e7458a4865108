"""The mesh's processes as supervisord runs them: their memory, and the CPU they spend."""
import os
import pathlib
import re

from scripts.mesh import supervisor
from scripts.mesh.layout import SERVICES

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def programs() -> dict[str, int]:
    """PID of every running process, by supervisord's name (e.g. "sales:sales-0")."""
    found = {}
    for line in supervisor.ctl("status", check=False).stdout.splitlines():
        match = re.match(r"(\S+)\s+RUNNING\s+pid (\d+)", line)
        if match:
            found[match.group(1)] = int(match.group(2))
    return found


def resident_memory() -> dict:
    """Memory in MiB of every process supervisord runs, by program name: RSS, and PSS (its
    share of the pages it holds: a library mapped by ten processes counts a tenth in each),
    with the whole mesh's totals and the services' alone. RSS counts shared pages once in
    every process; the PSS total is what the mesh takes from the machine."""
    processes, totals = {}, {"mesh": [0.0, 0.0], "services": [0.0, 0.0]}
    for name, pid in programs().items():
        rollup = pathlib.Path(f"/proc/{pid}/smaps_rollup").read_text()
        rss, pss = (round(int(re.search(rf"^{field}:\s+(\d+) kB", rollup, re.M).group(1)) / 1024, 1)
                    for field in ("Rss", "Pss"))
        processes[name] = {"rss": rss, "pss": pss}
        for group in ("mesh", "services") if name.partition(":")[0] in SERVICES else ("mesh",):
            totals[group][0] += rss
            totals[group][1] += pss
    return {"processes": processes, **{f"{group}_total": {"rss": round(rss), "pss": round(pss)}
                                       for group, (rss, pss) in totals.items()}}


def _cpu_and_parent() -> dict[int, tuple[float, int]]:
    """user + system CPU seconds and the parent of every process on the machine."""
    found = {}
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name may hold spaces and parentheses: the fields follow its last ')'.
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        found[int(entry.name)] = ((int(fields[11]) + int(fields[12])) / CLOCK_TICKS, int(fields[1]))
    return found


def cpu_seconds() -> dict[str, float]:
    """CPU seconds each program has used so far, by program ("sales", "auth", ...), its
    instances and their child processes (PostgreSQL's backends) included."""
    processes = _cpu_and_parent()
    children: dict[int, list[int]] = {}
    for pid, (_, parent) in processes.items():
        children.setdefault(parent, []).append(pid)
    totals: dict[str, float] = {}
    for name, pid in programs().items():
        pending, spent = [pid], 0.0
        while pending:
            current = pending.pop()
            spent += processes.get(current, (0.0, 0))[0]
            pending += children.get(current, [])
        program = name.partition(":")[0]
        totals[program] = totals.get(program, 0.0) + spent
    return totals

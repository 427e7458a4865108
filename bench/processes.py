"""The mesh's processes as supervisord runs them: their memory, and the CPU they spend."""
import os
import pathlib
import re

from scripts.mesh import supervisor

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def programs() -> dict[str, int]:
    """PID of every running process, by supervisord's name (e.g. "sales:sales-0")."""
    found = {}
    for line in supervisor.ctl("status", check=False).stdout.splitlines():
        match = re.match(r"(\S+)\s+RUNNING\s+pid (\d+)", line)
        if match:
            found[match.group(1)] = int(match.group(2))
    return found


def resident_memory() -> dict[str, float]:
    """RSS in MiB of every process supervisord runs, by program name."""
    memory = {}
    for name, pid in programs().items():
        status = pathlib.Path(f"/proc/{pid}/status").read_text()
        memory[name] = round(int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024, 1)
    return memory


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

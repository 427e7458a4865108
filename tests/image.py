"""The container image as the tests read it without a Docker engine: which files of the checkout
.dockerignore keeps out of the build context, and what the Dockerfile's final stage copies."""
import re
import shutil

from services.kit.settings import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"


def dockerignore_patterns() -> list[str]:
    lines = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()]
    patterns = [line for line in lines if line and not line.startswith("#")]
    # Exceptions would need Docker's whole precedence rules; the file has none.
    assert not any(pattern.startswith("!") for pattern in patterns)
    return patterns


def _regex(pattern: str) -> re.Pattern:
    """Docker's matching: `*` and `?` stay within one folder, `**/` spans any number of them."""
    parts = re.split(r"(\*\*/|\*|\?)", pattern.strip("/"))
    wildcards = {"**/": "(?:.*/)?", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(wildcards.get(part, re.escape(part)) for part in parts))


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps `path` (relative to the context) out: it or a folder above it
    matches a pattern."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
    return any(_regex(pattern).fullmatch(prefix) for pattern in patterns for prefix in prefixes)


def copy_build_context(target) -> None:
    """The checkout as `COPY . .` sees it: everything .dockerignore does not keep out."""
    patterns = dockerignore_patterns()
    shutil.copytree(REPO_ROOT, target, symlinks=True, ignore=lambda folder, names: [
        name for name in names if ignored(str((REPO_ROOT / folder / name).relative_to(REPO_ROOT)), patterns)])


def final_stage_copies() -> list[tuple[str, str, str]]:
    """The final stage's `COPY --from=STAGE SOURCE TARGET` lines, as (stage, source, target)."""
    final_stage = DOCKERFILE.read_text().rsplit("\nFROM ", 1)[1]
    return re.findall(r"^COPY --from=(\S+) (\S+) (\S+)$", final_stage, re.MULTILINE)

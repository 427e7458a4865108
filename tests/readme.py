"""The README's examples as the tests read them: the shell commands of its "Calling it" section,
each whole (continued lines and multi-line quoted bodies joined), and the promo codes they use."""
import re
import shlex

from services.kit.settings import REPO_ROOT

README = REPO_ROOT / "README.md"


def calling_it() -> str:
    """The "Calling it" section's text, up to the next section."""
    text = README.read_text()
    start = text.index("\n## Calling it\n")
    return text[start:text.index("\n## ", start + 1)]


def shell_commands(section: str) -> list[str]:
    """Every command of the section's ```sh blocks, comments dropped, in the README's order."""
    commands = []
    for block in re.findall(r"^```sh\n(.*?)^```", section, re.MULTILINE | re.DOTALL):
        pending = ""
        for line in block.splitlines():
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            pending += line + "\n"
            if line.endswith("\\") or not _complete(pending):
                continue
            commands.append(pending.strip())
            pending = ""
    return commands


def _complete(command: str) -> bool:
    """Whether the text is a whole command: its quotes closed."""
    try:
        shlex.split(command, comments=True)
    except ValueError:  # "No closing quotation"
        return False
    return True


def promo_codes(section: str) -> set[str]:
    """The promo codes the examples send or look up."""
    return {sent or looked_up for sent, looked_up in _PROMO_CODE.findall(section)}


_PROMO_CODE = re.compile(r'"promo_code":"([A-Z0-9_-]+)"|/pricing/promo-codes/([A-Z0-9_-]+)')

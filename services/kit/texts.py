"""Free text from a request (a reason, notes, a description): trimmed of surrounding blanks, at
most `longest` characters, and not empty when required; InvalidArgument on the field otherwise."""
from .errors import REQUIRED, TOO_LONG, invalid


def check_text(text: str, field: str, longest: int, required: bool = False) -> str:
    text = text.strip()
    if required and not text:
        raise invalid(field, "is required", REQUIRED)
    if len(text) > longest:
        raise invalid(field, f"must be at most {longest} characters", TOO_LONG)
    return text

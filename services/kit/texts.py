"""Free text from a request (a reason, notes, a description): trimmed of surrounding blanks, at
most `longest` characters, and not empty when required; InvalidArgument on the field otherwise."""
from .errors import InvalidArgument


def check_text(text: str, field: str, longest: int, required: bool = False) -> str:
    text = text.strip()
    if required and not text:
        raise InvalidArgument({field: "is required"})
    if len(text) > longest:
        raise InvalidArgument({field: f"must be at most {longest} characters"})
    return text

"""AIP-134 update masks: which top-level fields an update replaces."""
from .errors import REQUIRED, UNKNOWN_FIELD, invalid


def masked_fields(mask: list[str], editable: set[str]) -> set[str]:
    """The top-level fields named by `mask` (a sub-field path replaces its whole field; "*" alone
    names every editable field, a full replacement), or InvalidArgument on update_mask for an
    empty mask or a field that cannot be changed."""
    if not mask:
        raise invalid("update_mask", f"name the fields to change: {', '.join(sorted(editable))}", REQUIRED)
    if mask == ["*"]:
        return set(editable)
    fields = {path.split(".")[0] for path in mask}
    unknown = sorted(fields - editable)
    if unknown:
        raise invalid("update_mask", f"unknown or read-only fields: {', '.join(unknown)}", UNKNOWN_FIELD)
    return fields

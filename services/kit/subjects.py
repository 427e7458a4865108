"""How events are named on NATS: a service publishes `autosalon.<service>.<event>` into its
own stream, `AUTOSALON_<SERVICE>`. Plain names, importable before any code is generated."""


def stream_name(service: str) -> str:
    return f"AUTOSALON_{service.upper()}"


def source_of(subject: str) -> str:
    """The publishing service of a subject: "autosalon.sales.order.paid" -> "sales"."""
    return subject.split(".")[1]

# The NATS key-value bucket of setting values (kit.live_settings): the config service writes it.
SETTINGS_BUCKET = "autosalon_settings"
SETTINGS_WRITER = "config"

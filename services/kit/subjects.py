"""How events are named on NATS: a service publishes `autosalon.<service>.<event>` into its
own stream, `AUTOSALON_<SERVICE>`. Plain names, importable before any code is generated."""


def stream_name(service: str) -> str:
    return f"AUTOSALON_{service.upper()}"


def source_of(subject: str) -> str:
    """The publishing service of a subject: "autosalon.sales.order.paid" -> "sales"."""
    return subject.split(".")[1]

"""The API as the compiled descriptor set describes it: its messages and enums by full name,
and every autosalon method with the HTTP rule the edge serves it at."""
import re
from dataclasses import dataclass

from google.api import annotations_pb2
from google.protobuf import descriptor_pb2


@dataclass(frozen=True)
class Method:
    full_name: str   # "autosalon.sales.v1.SalesService/ConfirmOrder"
    verb: str        # "POST"
    template: str    # "/sales/{name=orders/*}:confirm"
    request: str     # the request message, ".autosalon.sales.v1.ConfirmOrderRequest"
    body: str        # "", "*" or the request field the body fills
    bound: tuple[str, ...]  # the request fields the path fills, e.g. ("name",)


class Api:
    def __init__(self, files: list[descriptor_pb2.FileDescriptorProto]):
        self.messages: dict[str, descriptor_pb2.DescriptorProto] = {}
        self.enums: dict[str, descriptor_pb2.EnumDescriptorProto] = {}
        for file in files:
            self._index(f".{file.package}", file.message_type, file.enum_type)
        self.methods = [
            _method(f"{file.package}.{service.name}/{method.name}", method)
            for file in files if file.package.startswith("autosalon.")
            for service in file.service for method in service.method
        ]

    @classmethod
    def load(cls, descriptor_set: bytes) -> "Api":
        return cls(list(descriptor_pb2.FileDescriptorSet.FromString(descriptor_set).file))

    def _index(self, scope: str, messages, enums) -> None:
        for enum in enums:
            self.enums[f"{scope}.{enum.name}"] = enum
        for message in messages:
            self.messages[f"{scope}.{message.name}"] = message
            self._index(f"{scope}.{message.name}", message.nested_type, message.enum_type)


def _method(full_name: str, method: descriptor_pb2.MethodDescriptorProto) -> Method:
    rule = method.options.Extensions[annotations_pb2.http]
    verb = rule.WhichOneof("pattern") or ""
    template = getattr(rule, verb) if verb else ""
    bound = tuple(variable.partition("=")[0] for variable in re.findall(r"\{([^}]*)\}", template))
    return Method(full_name, verb.upper(), template, method.input_type, rule.body, bound)

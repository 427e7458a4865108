"""The gRPC-JSON transcoder: a REST call, by its method's google.api.http annotation, becomes
the gRPC call it stands for, and the answer JSON with the gRPC status as its HTTP code. A
server-streaming method (a watch) answers one JSON object a line (NDJSON), each written as it
comes: a front end reads them as they arrive, where a JSON array would have to be parsed whole
or by a streaming parser."""
import pathlib

from . import FILTERS


def transcoder(envoy_dir: pathlib.Path, all_services: list[str]) -> dict:
    return {
        "name": "envoy.filters.http.grpc_json_transcoder",
        "typed_config": {
            "@type": f"{FILTERS}.http.grpc_json_transcoder.v3.GrpcJsonTranscoder",
            "proto_descriptor": str(envoy_dir / "descriptors.binpb"),
            "services": all_services,
            "convert_grpc_status": True,
            # Browsers and form encoders send spaces in query strings as '+'.
            "query_param_unescape_plus": True,
            "print_options": {
                "preserve_proto_field_names": True,
                "always_print_primitive_fields": True,
                "always_print_enums_as_ints": False,
                "stream_newline_delimited": True,
            },
            "request_validation_options": {
                "reject_unknown_method": False,
                "reject_unknown_query_parameters": True,
            },
        },
    }

"""Tells a native gRPC call from a REST one, as access log filters (local replies match on them
too): the transcoder turns a REST call into gRPC, noting its original method."""

NATIVE_GRPC = {"and_filter": {"filters": [
    {"header_filter": {"header": {"name": "content-type", "string_match": {"prefix": "application/grpc"}}}},
    {"header_filter": {"header": {"name": "x-envoy-original-method", "present_match": False}}},
]}}
REST = {"or_filter": {"filters": [
    {"header_filter": {"header": {"name": "content-type", "string_match": {"prefix": "application/grpc"},
                                  "invert_match": True, "treat_missing_header_as_empty": True}}},
    {"header_filter": {"header": {"name": "x-envoy-original-method", "present_match": True}}},
]}}

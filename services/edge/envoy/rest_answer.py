"""A REST answer is plain HTTP: the gRPC headers the transcoder leaves on it (its status went
into the HTTP code and the JSON body) are taken off. Only the REST routes ask for it
(REST_ANSWER, see routes.py): the filter takes its route config from the client's first route,
before any transcoding."""
from . import FILTERS

REST_ANSWER_FILTER = "envoy.filters.http.header_mutation"
HEADER_MUTATION = f"{FILTERS}.http.header_mutation.v3"
GRPC_ONLY_HEADERS = {"response_mutations": [
    {"remove": name} for name in ("grpc-status", "grpc-message", "grpc-accept-encoding", "grpc-encoding")]}
REST_ANSWER = {REST_ANSWER_FILTER: {"@type": f"{HEADER_MUTATION}.HeaderMutationPerRoute",
                                    "mutations": GRPC_ONLY_HEADERS}}


def rest_answer_filter() -> dict:
    """The filter, changing nothing outside the routes that set REST_ANSWER."""
    return {"name": REST_ANSWER_FILTER, "typed_config": {"@type": f"{HEADER_MUTATION}.HeaderMutation"}}

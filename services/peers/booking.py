"""booking's client: the workshop's kinds of job (public, so asked without a token)."""
from autosalon.booking.v1 import booking_pb2, booking_pb2_grpc
from services.kit.calls import Peers


async def job_type_names(peers: Peers) -> dict[str, str]:
    """Every kind of job the workshop has had, "job-types/{id}" -> its display name."""
    answer = await peers.call("booking", booking_pb2_grpc.BookingServiceStub, "ListJobTypes",
                              booking_pb2.ListJobTypesRequest(show_inactive=True), as_caller=False)
    return {job_type.name: job_type.display_name for job_type in answer.job_types}

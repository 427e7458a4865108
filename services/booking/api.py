"""booking's gRPC servicer."""
import datetime

from autosalon.booking.v1 import booking_pb2, booking_pb2_grpc
from services.kit import identity
from services.kit.errors import InvalidArgument
from services.kit.identity import ANYONE_SIGNED_IN, PUBLIC, STAFF
from services.kit.masks import masked_fields
from services.kit.protos import date_from, idempotency_key, mask_paths, resource_id, slug_of
from services.kit.texts import check_text

from . import domain
from .convert import STATUS_NAME
from .handlers import JOB_TYPE_FIELDS, MECHANIC_FIELDS, BookingHandlers, completion

ACCESS = {
    "ListJobTypes": PUBLIC,
    "CreateJobType": STAFF,
    "UpdateJobType": STAFF,
    "ListMechanics": STAFF,
    "GetMechanic": STAFF,
    "CreateMechanic": STAFF,
    "UpdateMechanic": STAFF,
    "ListSlots": PUBLIC,
    "CreateBooking": ANYONE_SIGNED_IN,
    "GetBooking": ANYONE_SIGNED_IN,
    "ListBookings": ANYONE_SIGNED_IN,
    "RescheduleBooking": ANYONE_SIGNED_IN,
    "CancelBooking": ANYONE_SIGNED_IN,
    "StartBooking": STAFF,
    "CompleteBooking": STAFF,
    "ListVehicleHistory": ANYONE_SIGNED_IN,
    "CreateTestDrive": ANYONE_SIGNED_IN,
    "GetTestDrive": ANYONE_SIGNED_IN,
    "ListTestDrives": ANYONE_SIGNED_IN,
    "CancelTestDrive": ANYONE_SIGNED_IN,
}


def _moment(parent, name: str, field: str, required: bool = True) -> datetime.datetime | None:
    """A Timestamp field as an aware UTC datetime; InvalidArgument on `field` when it is required
    and missing."""
    if not parent.HasField(name):
        if required:
            raise InvalidArgument({field: "is required, an RFC 3339 time such as 2027-03-01T09:00:00Z"})
        return None
    return getattr(parent, name).ToDatetime(tzinfo=datetime.timezone.utc)


class BookingApi(booking_pb2_grpc.BookingServiceServicer):
    def __init__(self, handlers: BookingHandlers):
        self.handlers = handlers

    async def ListJobTypes(self, request, context):
        return booking_pb2.ListJobTypesResponse(
            job_types=await self.handlers.list_job_types(request.show_inactive))

    async def CreateJobType(self, request, context):
        if not request.HasField("job_type"):
            raise InvalidArgument({"job_type": "is required"})
        return await self.handlers.create_job_type(identity.current(), request.job_type_id, request.job_type)

    async def UpdateJobType(self, request, context):
        job_type_id = slug_of(request.job_type.name, "job-types", "job_type.name")
        fields = masked_fields(mask_paths(request.update_mask.paths), JOB_TYPE_FIELDS)
        return await self.handlers.update_job_type(identity.current(), job_type_id, request.job_type, fields)

    async def ListMechanics(self, request, context):
        branch_id = slug_of(request.branch, "branches", "branch") if request.branch else ""
        found, token = await self.handlers.list_mechanics(branch_id, request.page_size, request.page_token)
        return booking_pb2.ListMechanicsResponse(mechanics=found, next_page_token=token)

    async def GetMechanic(self, request, context):
        return await self.handlers.get_mechanic(resource_id(request.name, "mechanics"))

    async def CreateMechanic(self, request, context):
        if not request.HasField("mechanic"):
            raise InvalidArgument({"mechanic": "is required"})
        branch_id = slug_of(request.mechanic.branch, "branches", "mechanic.branch")
        return await self.handlers.create_mechanic(identity.current(), branch_id, request.mechanic)

    async def UpdateMechanic(self, request, context):
        mechanic_id = resource_id(request.mechanic.name, "mechanics", "mechanic.name")
        fields = masked_fields(mask_paths(request.update_mask.paths), MECHANIC_FIELDS)
        return await self.handlers.update_mechanic(identity.current(), mechanic_id, request.mechanic, fields)

    async def ListSlots(self, request, context):
        branch_id = slug_of(request.branch, "branches", "branch")
        job_type_id = slug_of(request.job_type, "job-types", "job_type")
        return await self.handlers.slots(branch_id, job_type_id, _moment(request, "start_time", "start_time"),
                                         _moment(request, "end_time", "end_time"))

    async def CreateBooking(self, request, context):
        if not request.HasField("booking"):
            raise InvalidArgument({"booking": "is required"})
        start = _moment(request.booking, "start_time", "booking.start_time")
        return await self.handlers.create_booking(identity.current(), request.booking, start,
                                                  idempotency_key(context, request, required=False))

    async def GetBooking(self, request, context):
        return await self.handlers.get_booking(identity.current(), resource_id(request.name, "bookings"))

    async def ListBookings(self, request, context):
        if request.status and request.status not in STATUS_NAME:
            raise InvalidArgument({"status": "is not a known booking status"})
        branch_id = slug_of(request.branch, "branches", "branch") if request.branch else ""
        found, token = await self.handlers.list_bookings(
            identity.current(), STATUS_NAME.get(request.status, ""), branch_id,
            _moment(request, "start_time", "start_time", required=False),
            _moment(request, "end_time", "end_time", required=False), request.page_size, request.page_token)
        return booking_pb2.ListBookingsResponse(bookings=found, next_page_token=token)

    async def RescheduleBooking(self, request, context):
        return await self.handlers.reschedule(identity.current(), resource_id(request.name, "bookings"),
                                              _moment(request, "start_time", "start_time"), request.mechanic)

    async def CancelBooking(self, request, context):
        reason = check_text(request.reason, "reason", domain.REASON_LONGEST, required=True)
        return await self.handlers.move(identity.current(), resource_id(request.name, "bookings"),
                                        domain.CANCELLED, {"cancel_reason": reason})

    async def StartBooking(self, request, context):
        return await self.handlers.move(identity.current(), resource_id(request.name, "bookings"),
                                        domain.IN_PROGRESS, {})

    async def CompleteBooking(self, request, context):
        return await self.handlers.move(identity.current(), resource_id(request.name, "bookings"),
                                        domain.COMPLETED, completion(request.parts, request.labour, request.work_done))

    async def ListVehicleHistory(self, request, context):
        found, token = await self.handlers.history(identity.current(), request.vehicle, request.page_size,
                                                   request.page_token)
        return booking_pb2.ListVehicleHistoryResponse(bookings=found, next_page_token=token)

    async def CreateTestDrive(self, request, context):
        if not request.HasField("test_drive"):
            raise InvalidArgument({"test_drive": "is required"})
        start = _moment(request.test_drive, "start_time", "test_drive.start_time")
        return await self.handlers.create_test_drive(identity.current(), request.test_drive, start,
                                                     idempotency_key(context, request, required=False))

    async def GetTestDrive(self, request, context):
        return await self.handlers.get_test_drive(identity.current(), resource_id(request.name, "test-drives"))

    async def ListTestDrives(self, request, context):
        branch_id = slug_of(request.branch, "branches", "branch") if request.branch else ""
        found, token = await self.handlers.list_test_drives(
            identity.current(), branch_id, date_from(request.day, "day"), request.page_size, request.page_token)
        return booking_pb2.ListTestDrivesResponse(test_drives=found, next_page_token=token)

    async def CancelTestDrive(self, request, context):
        return await self.handlers.cancel_test_drive(identity.current(), resource_id(request.name, "test-drives"),
                                                     request.reason)

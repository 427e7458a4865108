"""The insurance company, called over gRPC through a circuit breaker (kit.calls.Outside): it issues policy numbers
and registers claims. An outside system, not in Consul: its address comes from the settings.
Both calls are idempotent by their request id (the policy's, the claim's), so asking again after
a lost answer never issues twice."""
import datetime
from decimal import Decimal

from insurer.v1 import insurer_pb2, insurer_pb2_grpc
from services.kit import calls


class Insurer:
    def __init__(self, address: str, fail_max: int, reset_timeout: float, timeout: float = 5.0):
        self._outside = calls.Outside("the insurer", address, insurer_pb2_grpc.InsurerServiceStub, fail_max,
                                      reset_timeout, timeout)

    async def issue(self, request_id: str, product: str, premium: Decimal, starts_on: datetime.date,
                    ends_on: datetime.date) -> str:
        """The policy's number; Unavailable while the insurer is away."""
        answer = await self._outside.call("IssuePolicy", insurer_pb2.IssuePolicyRequest(
            request_id=request_id, product=product, premium=str(premium), starts_on=starts_on.isoformat(),
            ends_on=ends_on.isoformat()))
        return answer.policy_number

    async def register_claim(self, request_id: str, policy_number: str, incident_date: datetime.date,
                             claimed: Decimal) -> str:
        """The claim's number; Unavailable while the insurer is away."""
        answer = await self._outside.call("RegisterClaim", insurer_pb2.RegisterClaimRequest(
            request_id=request_id, policy_number=policy_number, incident_date=incident_date.isoformat(),
            claimed_amount=str(claimed)))
        return answer.claim_number

    async def close(self) -> None:
        await self._outside.close()

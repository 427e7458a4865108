"""The emulated insurance company (insurer.v1.InsurerService): issues policy numbers and
registers claims.

Settings: EmulatorSettings below. Numbers come from one sequence each for policies and claims;
every request id's answer is kept, so a repeated request gets its first answer. An insurer never
gives a number twice: its records (a JSON file in the run folder) outlive a restart.
"""
import datetime
import logging
import pathlib
from dataclasses import dataclass

import grpc

from insurer.v1 import insurer_pb2, insurer_pb2_grpc
from services.peers.insurance import claim_number, osago_policy_number, policy_number
from services.kit import server, settings

from .serving import Kept, behave_like_a_network, serve

log = logging.getLogger(__name__)
PRODUCTS = ("osago", "kasko", "life", "health")


@dataclass(frozen=True)
class EmulatorSettings:
    address: str = settings.setting("127.0.0.1:7103", "AUTOSALON_INSURER_ADDR", "where the insurer emulator listens")
    latency_ms: float = settings.setting(30.0, "AUTOSALON_INSURER_LATENCY_MS", "how long each answer takes",
                                         minimum=0)
    failure_rate: float = settings.setting(0.0, "AUTOSALON_INSURER_FAILURE_RATE",
                                           "the share of calls answered UNAVAILABLE, as an insurer outage",
                                           minimum=0, maximum=1)


class Insurer(insurer_pb2_grpc.InsurerServiceServicer):
    def __init__(self, latency_seconds: float, failure_rate: float, records: pathlib.Path | None = None):
        self.latency = latency_seconds
        self.failure_rate = failure_rate
        self._kept = Kept(records, "policies", "claims")
        self.policies: dict[str, str] = self._kept.records["policies"]
        self.claims: dict[str, str] = self._kept.records["claims"]

    async def IssuePolicy(self, request, context):
        await behave_like_a_network(context, self.latency, self.failure_rate, "insurer temporarily unavailable")
        await _check_request_id(request.request_id, context)
        number = self.policies.get(request.request_id)
        if number is None:
            if request.product not in PRODUCTS:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"product: one of {', '.join(PRODUCTS)}")
            sequence = len(self.policies) + 1
            year = datetime.date.today().year
            number = (osago_policy_number(sequence) if request.product == "osago"
                      else policy_number(request.product, year, sequence))
            self.policies[request.request_id] = number
            self._kept.save()
            log.info("policy %s issued for %s", number, request.request_id)
        return insurer_pb2.IssuePolicyResponse(request_id=request.request_id, policy_number=number)

    async def RegisterClaim(self, request, context):
        await behave_like_a_network(context, self.latency, self.failure_rate, "insurer temporarily unavailable")
        await _check_request_id(request.request_id, context)
        number = self.claims.get(request.request_id)
        if number is None:
            if request.policy_number not in self.policies.values():
                await context.abort(grpc.StatusCode.NOT_FOUND, f"no policy {request.policy_number}")
            number = claim_number(datetime.date.today().year, len(self.claims) + 1)
            self.claims[request.request_id] = number
            self._kept.save()
            log.info("claim %s registered on %s", number, request.policy_number)
        return insurer_pb2.RegisterClaimResponse(request_id=request.request_id, claim_number=number)


async def _check_request_id(request_id: str, context) -> None:
    if not 1 <= len(request_id) <= 100:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "request_id: 1 to 100 characters")


async def main() -> None:
    own = settings.load(EmulatorSettings)
    records = settings.load().run_dir / "emulators" / "insurer.json"
    await serve("insurer", own.address, Insurer(own.latency_ms / 1000, own.failure_rate, records),
                insurer_pb2_grpc.add_InsurerServiceServicer_to_server,
                insurer_pb2.DESCRIPTOR.services_by_name["InsurerService"])


if __name__ == "__main__":
    server.run(main)

"""The Go client (sdk/go, built by ./scripts/sdk go) against the live mesh over native gRPC:
its smoke program's purchase, and the refusals it reports with their gRPC code, reason and field
violations."""
import pytest

from scripts.clients import go

from .smoke_programs import check_bad_input, check_purchase, check_refusal


@pytest.fixture(scope="module")
def smoke(mesh) -> list[str]:
    go.build()
    return [str(go.PROGRAMS / "smoke")]


def test_smoke_program_signs_in_lists_the_catalogue_and_orders_a_car(smoke, edge, manager_session):
    check_purchase(smoke, edge, manager_session)


def test_a_refused_call_exits_with_its_grpc_code_and_reason(smoke):
    check_refusal(smoke)


def test_bad_input_exits_with_its_field_violations(smoke):
    check_bad_input(smoke)

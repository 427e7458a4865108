"""The generated clients against the live mesh: Go (sdk/go, native gRPC) and TypeScript
(sdk/typescript, gRPC-web, as a browser's would call), each built by ./scripts/sdk. Each smoke
program's purchase, and the refusals it reports with their gRPC code, reason and field
violations."""
import pytest

from scripts.clients import go, typescript

from .smoke_programs import check_bad_input, check_purchase, check_refusal


def _go() -> list[str]:
    go.build()
    return [str(go.PROGRAMS / "smoke")]


def _typescript() -> list[str]:
    return ["node", str(typescript.build() / "dist" / "examples" / "smoke.js")]


@pytest.fixture(scope="module", params=[_go, _typescript], ids=["go", "typescript"])
def smoke(mesh, request) -> list[str]:
    return request.param()


def test_smoke_program_signs_in_lists_the_catalogue_and_orders_a_car(smoke, edge, manager_session):
    check_purchase(smoke, edge, manager_session)


def test_a_refused_call_exits_with_its_grpc_code_and_reason(smoke):
    check_refusal(smoke)


def test_bad_input_exits_with_its_field_violations(smoke):
    check_bad_input(smoke)

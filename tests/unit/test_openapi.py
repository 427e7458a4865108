"""The edge's OpenAPI document: every REST route the protos declare is in it with its schemas and
the error shape; every operation needs the bearer token but the public methods; the creations
that take an Idempotency-Key say so; what the edge serves is what render wrote from the protos;
the docs page's files are all served, Swagger UI's from one pinned release."""
import re

import yaml

from scripts.mesh.tools import DESCRIPTORS, OPENAPI_PLUGIN_VERSION, SWAGGER_UI_FILES, SWAGGER_UI_VERSION
from services.edge import render
from services.edge.envoy.docs import PAGE_FILES
from services.kit.settings import REPO_ROOT
from services.kit.stats import declared_version


def edge_document() -> dict:
    """The document as render makes it, from today's protos and envoy/edge.yaml."""
    settings = yaml.safe_load((REPO_ROOT / "envoy" / "edge.yaml").read_text())
    return render.openapi_document(DESCRIPTORS, render.mesh_services(DESCRIPTORS), settings["public_methods"])


def _operations(document: dict) -> dict[str, dict]:
    return {operation["operationId"]: operation for item in document["paths"].values()
            for operation in item.values()}


def test_every_rest_route_is_documented_with_its_schemas_and_the_error_shape():
    document = edge_document()
    assert document["swagger"] == "2.0" and document["info"]["version"] == declared_version()
    assert {"/auth/me", "/sales/orders", "/payments", "/catalog/models", "/monitoring/traces/{trace_id}"} <= set(
        document["paths"])
    create = document["paths"]["/sales/orders"]["post"]
    assert create["responses"]["200"]["schema"] == {"$ref": "#/definitions/Order"}
    assert create["responses"]["default"]["schema"] == {"$ref": "#/definitions/Status"}
    assert "details" in document["definitions"]["Status"]["properties"]
    listed = {parameter["name"] for parameter in document["paths"]["/catalog/models"]["get"]["parameters"]}
    assert {"page_size", "page_token"} <= listed


def test_resource_names_in_paths_are_spelled_out_as_ids():
    """A client fills in ids, never a name with slashes: "/catalog/{name}" with the pattern
    "models/[^/]+/trims/[^/]+" is "/catalog/models/{model}/trims/{trim}"."""
    document = edge_document()
    trim = document["paths"]["/catalog/models/{model}/trims/{trim}"]
    assert set(trim) == {"get", "patch", "delete"}
    assert [(parameter["name"], parameter["in"]) for parameter in trim["get"]["parameters"]] == [
        ("model", "path"), ("trim", "path")]
    assert "/sales/orders/{order}:confirm" in document["paths"]
    for path, item in document["paths"].items():
        assert not re.search(r"\{\w+\.\w+\}|\{\w+_\d\}", path), path  # {model.name}, {name_1}
        for operation in item.values():
            assert not [parameter for parameter in operation.get("parameters", [])
                        if parameter["in"] == "path" and "pattern" in parameter], path


def test_a_watch_answers_the_resource_a_line_not_grpc_gateways_wrapper():
    paths = edge_document()["paths"]
    for path, resource in (("/sales/orders/{order}:watch", "Order"), ("/payments/{payment}:watch", "Payment")):
        answer = paths[path]["get"]["responses"]["200"]
        assert answer["schema"] == {"$ref": f"#/definitions/{resource}"}, path
        assert "NDJSON" in answer["description"]


def test_the_tags_are_the_services_behind_the_edge():
    tags = [tag["name"] for tag in edge_document()["tags"]]
    assert "CatalogService" in tags and "SalesService" in tags
    assert not {"StatsService", "BankService", "PaymentGatewayService", "SmsService"} & set(tags)


def test_the_token_is_needed_but_for_the_public_methods():
    document = edge_document()
    assert document["security"] == [{"bearer": []}]
    assert document["securityDefinitions"]["bearer"]["name"] == "Authorization"
    operations = _operations(document)
    for public in ("AuthService_Login", "AuthService_Register", "CatalogService_ListModels"):
        assert operations[public]["security"] == [], public
    for private in ("AuthService_GetCurrentUser", "SalesService_CreateOrder", "MonitoringService_GetTrace"):
        assert "security" not in operations[private], private


def test_creations_that_take_an_idempotency_key_say_so():
    operations = _operations(edge_document())
    for creation in ("SalesService_CreateOrder", "PaymentService_CreatePayment"):
        headers = [parameter for parameter in operations[creation]["parameters"] if parameter["in"] == "header"]
        assert [header["name"] for header in headers] == ["Idempotency-Key"], creation
    assert not [parameter for parameter in operations["AuthService_GetCurrentUser"].get("parameters", [])
                if parameter["in"] == "header"]


def test_the_plugins_version_is_the_same_everywhere_it_is_built_or_run():
    version = OPENAPI_PLUGIN_VERSION
    assert f"protoc-gen-openapiv2-{version}" in (REPO_ROOT / "scripts" / "protoc-gen-openapiv2").read_text()
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert f"protoc-gen-openapiv2@v{version}" in dockerfile and f"protoc-gen-openapiv2-{version}" in dockerfile


def test_the_docs_page_serves_its_own_files_and_swagger_uis_pinned_release():
    served = {name for name, _ in PAGE_FILES.values()}
    assert served == {path.name for path in render.DOCS_PAGE.iterdir()} | set(SWAGGER_UI_FILES)
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert f"swagger-ui-dist@{SWAGGER_UI_VERSION}" in dockerfile
    assert f"swagger-ui-dist-{SWAGGER_UI_VERSION}" in dockerfile

"""reporting through the edge, REST and native gRPC: a purchase handed over today shows in the
sales report (by brand, and by the salesperson who handed it over), in the funnel and, with its
promo code, nowhere it should not; staff only; a bad range or split is 400 naming its field."""
import datetime
from zoneinfo import ZoneInfo

import grpc
import pytest

from autosalon.reporting.v1 import reporting_pb2, reporting_pb2_grpc

from .conftest import bearer, grpc_fields
from .purchase import confirmed_and_ready, eventually, in_status, new_vehicle, pay, wait_for_order
from .test_auth_rest import violations
from .test_financing import APPROVED, _submitted_and_decided
from .test_notification_crash import _free_slot

TODAY = datetime.datetime.now(ZoneInfo("Europe/Moscow")).date().isoformat()


def _report(edge, session: dict, path: str, **params) -> dict:
    answer = edge.get(f"/reports/{path}", headers=bearer(session), params={
        "start_date": TODAY, "end_date": TODAY, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _sold(report: dict) -> int:
    return report.get("cars_sold", 0)


def test_a_car_handed_over_today_counts_in_the_sales_report_and_the_funnel(edge, client_session, manager_session):
    before = _report(edge, manager_session, "sales", split_by="DIMENSION_BRAND")
    funnel_before = _report(edge, manager_session, "funnel")
    vehicle = new_vehicle(edge, manager_session)
    order = confirmed_and_ready(edge, client_session, vehicle)
    assert pay(edge, client_session, order).status_code == 200
    wait_for_order(edge, client_session, order, in_status("ORDER_STATUS_PAID"))
    completed = edge.post(f"/sales/{order['name']}:complete", headers=bearer(manager_session), json={})
    assert completed.status_code == 200, completed.text

    def counted() -> bool:
        return _sold(_report(edge, manager_session, "sales", split_by="DIMENSION_BRAND")) == _sold(before) + 1

    eventually(counted)
    after = _report(edge, manager_session, "sales", split_by="DIMENSION_BRAND")
    brand_row = [row for row in after["rows"] if row["key"] == vehicle["brand"]]
    assert brand_row and brand_row[0]["period_start"] == TODAY[:8] + "01", after
    revenue = float(after["revenue"]["amount"]) - float(before.get("revenue", {}).get("amount", "0"))
    assert round(revenue, 2) == float(order["total"]["amount"])
    funnel = _report(edge, manager_session, "funnel")
    for step in ("created", "confirmed", "paid", "completed"):
        assert funnel.get(step, 0) >= funnel_before.get(step, 0) + 1, (step, funnel, funnel_before)
    by_seller = _report(edge, manager_session, "sales", split_by="DIMENSION_SALESPERSON", period="PERIOD_DAY")
    assert any(row["key"] for row in by_seller["rows"]), by_seller


def test_a_loan_decided_today_counts_in_the_financing_report(edge, client_session, manager_session):
    before = _report(edge, manager_session, "financing")
    decided = _submitted_and_decided(edge, client_session)
    outcome = "approved" if decided["status"] == APPROVED else "rejected"
    eventually(lambda: _report(edge, manager_session, "financing").get(outcome, 0) == before.get(outcome, 0) + 1)
    after = _report(edge, manager_session, "financing")
    assert 0 <= float(after["approval_rate_percent"]) <= 100


def test_a_workshop_booking_counts_in_the_load_of_its_job_type(edge, client_session, manager_session):
    start_time = _free_slot(edge)
    day = start_time[:10]
    before = {row["key"]: row for row in _report(edge, manager_session, "workshop", start_date=day,
                                                   end_date=day).get("by_job_type", [])}
    booked = edge.post("/service/bookings", headers=bearer(client_session), json={
        "vin": "XTA21099043576182", "job_type": "job-types/oil-change", "branch": "branches/moscow-central",
        "start_time": start_time})
    assert booked.status_code == 200, booked.text

    def counted() -> bool:
        rows = {row["key"]: row for row in _report(edge, manager_session, "workshop", start_date=day,
                                                     end_date=day).get("by_job_type", [])}
        return rows.get("job-types/oil-change", {}).get("bookings", 0) == \
            before.get("job-types/oil-change", {}).get("bookings", 0) + 1

    eventually(counted)


def test_reports_are_for_staff_only(edge, client_session):
    for path in ("sales", "funnel", "promotions", "popularity", "financing", "insurance", "workshop"):
        answer = edge.get(f"/reports/{path}", headers=bearer(client_session),
                          params={"start_date": TODAY, "end_date": TODAY})
        assert answer.status_code == 403, answer.text
        assert edge.get(f"/reports/{path}", params={"start_date": TODAY, "end_date": TODAY}).status_code == 401


@pytest.mark.parametrize("params, field", [
    ({}, "start_date"),
    ({"start_date": "2026-12-31", "end_date": "2026-12-01"}, "end_date"),
    ({"start_date": "2020-01-01", "end_date": "2026-01-01"}, "end_date"),
    ({"start_date": "yesterday", "end_date": "2026-12-01"}, "start_date"),
])
def test_a_bad_range_is_400_naming_its_field(edge, manager_session, params, field):
    answer = edge.get("/reports/sales", headers=bearer(manager_session), params=params)
    assert answer.status_code == 400 and field in violations(answer), answer.text


async def test_native_grpc_answers_and_refuses_as_rest_does(edge_channel, manager_session):
    stub = reporting_pb2_grpc.ReportingServiceStub(edge_channel)
    metadata = (("authorization", f"Bearer {manager_session['access_token']}"),)
    report = await stub.GetFunnelReport(reporting_pb2.GetFunnelReportRequest(start_date=TODAY, end_date=TODAY),
                                        metadata=metadata)
    assert report.created >= report.confirmed >= report.paid >= report.completed
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.GetSalesReport(reporting_pb2.GetSalesReportRequest(start_date=TODAY, end_date=TODAY, period=9),
                                  metadata=metadata)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT and grpc_fields(refused.value) == {"period"}


def test_an_admin_rebuilds_the_read_models_from_the_events_and_the_reports_stay_the_same(
        edge, admin_session, manager_session):
    before = [_report(edge, admin_session, path) for path in ("sales", "funnel", "promotions", "financing")]
    assert edge.post("/reports:rebuild", headers=bearer(manager_session), json={}).status_code == 403
    started = edge.post("/reports:rebuild", headers=bearer(admin_session), json={})
    assert started.status_code == 200, started.text
    rebuild = started.json()
    assert rebuild["state"] == "REBUILD_STATE_RUNNING" and rebuild["requested_by"].startswith("users/")

    def finished() -> bool:
        nonlocal rebuild
        rebuild = edge.get(f"/reports/{rebuild['name']}", headers=bearer(admin_session)).json()
        return rebuild["state"] != "REBUILD_STATE_RUNNING"

    eventually(finished, seconds=120)
    assert rebuild["state"] == "REBUILD_STATE_DONE", rebuild
    assert int(rebuild["events_applied"]) >= int(rebuild["events_total"]) > 0
    assert [_report(edge, admin_session, path) for path in ("sales", "funnel", "promotions", "financing")] == before
    assert edge.get("/reports/rebuilds/8a1f7d2e-0000-4000-8000-000000000000",
                    headers=bearer(admin_session)).status_code == 404


def _kept(edge, session: dict, key: str | None = None, **fields):
    headers = {**bearer(session), **({"Idempotency-Key": key} if key else {})}
    return edge.post("/reports/sales-reports", headers=headers, json={
        "start_date": TODAY[:8] + "01", "end_date": TODAY, "period": "PERIOD_DAY", "split_by": "DIMENSION_BRAND",
        **fields})


def test_a_kept_sales_report_has_the_figures_of_its_period_and_downloads_as_csv_and_pdf(edge, manager_session):
    made = _kept(edge, manager_session, key="keep-report-1")
    assert made.status_code == 200, made.text
    kept = made.json()
    assert _kept(edge, manager_session, key="keep-report-1").json()["name"] == kept["name"], "a retry keeps none more"
    assert kept["title"] == f"Sales {TODAY[:8]}01 to {TODAY}, by day, by brand"
    live = _report(edge, manager_session, "sales", start_date=TODAY[:8] + "01", period="PERIOD_DAY",
                   split_by="DIMENSION_BRAND")
    assert kept["report"] == live
    assert kept["name"] in [item["name"] for item in edge.get(
        "/reports/sales-reports", headers=bearer(manager_session)).json()["stored_sales_reports"]]
    assert edge.get(f"/reports/{kept['name']}", headers=bearer(manager_session)).json() == kept
    as_csv = edge.get(f"/reports/{kept['name']}:download", headers=bearer(manager_session),
                      params={"format": "DOCUMENT_FORMAT_CSV"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv"), as_csv.text
    assert as_csv.text.splitlines()[0] == "period_start,key,cars_sold,revenue,discount,average_price"
    assert "attachment" in as_csv.headers.get("content-disposition", ""), as_csv.headers
    as_pdf = edge.get(f"/reports/{kept['name']}:download", headers=bearer(manager_session),
                      params={"format": "DOCUMENT_FORMAT_PDF"})
    assert as_pdf.status_code == 200 and as_pdf.headers["content-type"] == "application/pdf"
    assert as_pdf.content.startswith(b"%PDF-")


def test_kept_reports_refuse_bad_input_strangers_and_clients(edge, manager_session, client_session):
    bad = _kept(edge, manager_session, start_date="2026-12-31", end_date="2026-01-01")
    assert bad.status_code == 400 and "stored_sales_report.end_date" in violations(bad), bad.text
    kept = _kept(edge, manager_session).json()
    no_format = edge.get(f"/reports/{kept['name']}:download", headers=bearer(manager_session))
    assert no_format.status_code == 400 and "format" in violations(no_format), no_format.text
    assert edge.get("/reports/sales-reports/8a1f7d2e-0000-4000-8000-000000000000",
                    headers=bearer(manager_session)).status_code == 404
    assert _kept(edge, client_session).status_code == 403
    assert edge.get("/reports/sales-reports", headers=bearer(client_session)).status_code == 403

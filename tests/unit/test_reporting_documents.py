"""A kept sales report as files: the CSV's rows and totals; a real PDF, whose first page,
rendered to an image, shows the title, the table and the chart (not a blank page)."""
import csv
import datetime
import io

import pypdfium2

from autosalon.reporting.v1 import reporting_pb2
from services.kit import money
from services.reporting import documents
from services.reporting.convert import sales_report_to_proto

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


class _Row:
    def __init__(self, period_start, key, cars_sold, revenue, discount):
        self.period_start, self.key, self.cars_sold = period_start, key, cars_sold
        self.revenue, self.discount = money.parse_amount(revenue, "r"), money.parse_amount(discount, "d")


def _report() -> reporting_pb2.SalesReport:
    return sales_report_to_proto([
        _Row(datetime.date(2026, 10, 1), "Haval", 3, "7350000.00", "90000.00"),
        _Row(datetime.date(2026, 11, 1), "Лада", 2, "2600000.50", "0.00"),
        _Row(datetime.date(2026, 12, 1), "Haval", 1, "2450000.00", "0.00"),
    ])


def test_the_csv_has_a_row_a_period_and_split_value_then_the_totals():
    rows = list(csv.reader(io.StringIO(documents.csv_of(_report()).decode())))
    assert rows[0] == list(documents.COLUMNS)
    assert rows[1] == ["2026-10-01", "Haval", "3", "7350000.00", "90000.00", "2450000.00"]
    assert rows[2] == ["2026-11-01", "Лада", "2", "2600000.50", "0.00", "1300000.25"]
    assert rows[-1] == ["total", "", "6", "12400000.50", "90000.00", ""]


def test_an_empty_report_is_still_a_file_with_its_header_and_totals():
    rows = list(csv.reader(io.StringIO(documents.csv_of(sales_report_to_proto([])).decode())))
    assert rows == [list(documents.COLUMNS), ["total", "", "0", "0.00", "0.00", ""]]


def _first_page_pixels(pdf: bytes):
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=1).to_pil().convert("L")
        return image, len(document)
    finally:
        document.close()


def test_the_pdf_is_a_real_document_whose_first_page_shows_the_table_and_the_chart():
    pdf = documents.pdf_of("Sales 2026-10-01 to 2026-12-31, by month, by brand", _report(), FONT)
    assert pdf.startswith(b"%PDF-")
    image, pages = _first_page_pixels(pdf)
    assert pages == 1
    histogram = image.histogram()
    dark = sum(histogram[:128])
    # Text, the table's lines and the chart's bars: a good share of the page is not white.
    assert dark > 2000, dark
    # The chart's bars: a block of the same mid-dark blue (grey ~ 80) somewhere on the page.
    assert sum(histogram[60:100]) > 1000


def test_a_pdf_without_its_font_still_renders():
    pdf = documents.pdf_of("Sales", _report(), "/nowhere/font.ttf")
    image, _ = _first_page_pixels(pdf)
    assert sum(image.histogram()[:128]) > 2000

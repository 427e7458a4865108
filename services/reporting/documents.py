"""A kept sales report as a file: CSV, or a PDF with the table and a chart of revenue by period.
Pure: the report's message in, the file's bytes out (the PDF's font is a TrueType file read
once; without one that writes Cyrillic, names in it show as boxes)."""
import csv
import functools
import io
import logging
import pathlib
from collections import defaultdict
from decimal import Decimal

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from autosalon.reporting.v1 import reporting_pb2

log = logging.getLogger(__name__)
COLUMNS = ("period_start", "key", "cars_sold", "revenue", "discount", "average_price")
_FALLBACK_FONT = "Helvetica"


def csv_of(report: reporting_pb2.SalesReport) -> bytes:
    """A row a period and split value, then the totals; amounts as plain decimals."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in report.rows:
        writer.writerow([row.period_start, row.key, row.cars_sold, row.revenue.amount, row.discount.amount,
                         row.average_price.amount])
    writer.writerow(["total", "", report.cars_sold, report.revenue.amount, report.discount.amount, ""])
    return text.getvalue().encode()


@functools.cache
def _font(path: str) -> str:
    """The registered name of the TrueType font at `path`, or the built-in one when it is missing."""
    if not pathlib.Path(path).is_file():
        log.warning("no font at %s: reports' PDFs use %s, which has no Cyrillic", path, _FALLBACK_FONT)
        return _FALLBACK_FONT
    pdfmetrics.registerFont(TTFont("ReportFont", path))
    return "ReportFont"


def _revenue_chart(report: reporting_pb2.SalesReport, font: str) -> Drawing:
    """Revenue by period, in millions of roubles, all split values together."""
    by_period: dict[str, Decimal] = defaultdict(Decimal)
    for row in report.rows:
        by_period[row.period_start] += Decimal(row.revenue.amount)
    drawing = Drawing(170 * mm, 70 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 15 * mm, 12 * mm, 150 * mm, 52 * mm
    chart.data = [[float(amount / 1_000_000) for amount in by_period.values()] or [0.0]]
    chart.categoryAxis.categoryNames = list(by_period) or ["—"]
    chart.categoryAxis.labels.fontName = chart.valueAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = chart.valueAxis.labels.fontSize = 6
    chart.categoryAxis.labels.angle = 30
    chart.categoryAxis.labels.boxAnchor = "ne"
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor("#0a58ca")
    drawing.add(chart)
    return drawing


def pdf_of(title: str, report: reporting_pb2.SalesReport, font_path: str) -> bytes:
    """An A4 page (or more) with the title, the totals, the chart and the table."""
    font = _font(font_path)
    styles = getSampleStyleSheet()
    for style in styles.byName.values():
        style.fontName = font
    table = Table([["Period", "Split", "Cars", "Revenue, RUB", "Discount, RUB", "Average, RUB"]] + [
        [row.period_start, row.key, str(row.cars_sold), row.revenue.amount, row.discount.amount,
         row.average_price.amount] for row in report.rows] + [
        ["Total", "", str(report.cars_sold), report.revenue.amount, report.discount.amount, ""]],
        repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef9")), ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.grey), ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.grey)]))
    document = io.BytesIO()
    SimpleDocTemplate(document, pagesize=A4, title=title, author="Autosalon").build([
        Paragraph(title, styles["Title"]),
        Paragraph(f"Cars sold: {report.cars_sold}; revenue RUB {report.revenue.amount}; "
                  f"discount RUB {report.discount.amount}", styles["Normal"]),
        Spacer(1, 4 * mm), Paragraph("Revenue by period, million RUB", styles["Heading3"]),
        _revenue_chart(report, font), Spacer(1, 4 * mm), table])
    return document.getvalue()

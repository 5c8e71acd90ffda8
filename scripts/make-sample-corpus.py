"""Writes samples/corpus/: the small bilingual corpus `make demo` runs on.

The files are committed; this script documents how they were made and remakes them:
    python -m venv /tmp/gen && /tmp/gen/bin/pip install python-docx python-pptx openpyxl reportlab pypdfium2 pillow
    /tmp/gen/bin/python scripts/make-sample-corpus.py
All text is original to llmloop (Apache-2.0).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import pypdfium2
from docx import Document
from docx.shared import Pt
from openpyxl import Workbook
from pptx import Presentation
from pptx.util import Inches
from pptx.util import Pt as PptPt
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

OUT = Path(__file__).resolve().parent.parent / "samples" / "corpus"

MAINTENANCE_EN = [
    ("h1", "Pump Station 7 Maintenance Report"),
    ("p", "This report summarises the inspection of Pump Station 7 carried out in March. The station supplies cooling water to the northern production line and runs three centrifugal pumps in a two-duty, one-standby arrangement."),
    ("h2", "Findings"),
    ("p", "Vibration on pump B rose from 2.1 mm/s to 6.8 mm/s over six weeks. Because the bearing temperature also climbed by 12 degrees, the inspection team concluded that the drive-end bearing is wearing out. If the bearing fails, the line loses a third of its cooling capacity and production must slow down."),
    ("li", "Pump A: normal vibration, seal leak of two drops per minute."),
    ("li", "Pump B: high vibration, bearing temperature 78 °C, replacement required."),
    ("li", "Pump C (standby): not started for 40 days; monthly test run overdue."),
    ("h2", "Recommendations"),
    ("p", "Replace the drive-end bearing of pump B within two weeks and run pump C as duty pump meanwhile. Therefore the standby test run must happen first, so that pump C is known to be healthy before it carries load. Order a spare seal kit for pump A, since the leak rate usually doubles within a quarter."),
    ("h2", "Safety"),
    ("p", "All work requires lock-out/tag-out of the motor supply and a permit to work. Two technicians must be present when the pump casing is opened."),
]

FINANCE_ZH = [
    ("h1", "2024年第三季度经营分析"),
    ("p", "本季度公司实现营业收入12.6亿元，同比增长8.4%。增长主要来自华东地区的新客户，由于新签合同集中在七月，收入确认比去年同期提前。"),
    ("h2", "成本与利润"),
    ("p", "原材料价格上涨导致毛利率下降1.2个百分点。因为铜价在八月上涨了15%，电缆产品的单位成本明显上升。如果铜价继续上涨，第四季度的毛利率可能再下降0.5个百分点。"),
    ("li", "营业收入：12.6亿元，同比增长8.4%"),
    ("li", "毛利率：23.5%，同比下降1.2个百分点"),
    ("li", "经营现金流：2.1亿元，环比改善"),
    ("h2", "风险与建议"),
    ("p", "建议与主要供应商签订铜材锁价协议，以降低原材料价格波动的风险。同时应加快应收账款回收，因为账期超过九十天的应收款占比已升至18%。"),
    ("h2", "下季度展望"),
    ("p", "预计第四季度收入将保持稳定增长，新产能投产后交付周期将缩短一周。管理层将重点关注成本控制和现金流管理。"),
]


def write_docx(path: Path, blocks) -> None:
    doc = Document()
    for kind, text in blocks:
        if kind == "h1":
            doc.add_heading(text, level=1)
        elif kind == "h2":
            doc.add_heading(text, level=2)
        elif kind == "li":
            doc.add_paragraph(text, style="List Bullet")
        else:
            para = doc.add_paragraph(text)
            para.runs[0].font.size = Pt(11)
    table = doc.add_table(rows=3, cols=3)
    table.style = "Table Grid"
    rows = [("Item", "Status", "Due"), ("Pump B bearing", "Replace", "2 weeks"), ("Pump C test run", "Overdue", "Now")]
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    doc.save(path)


INSPECTION_SCAN_EN = [
    ("h1", "Intake Screen Inspection Note"),
    ("p", "On 14 March the intake screens of Pump Station 7 were inspected from the walkway after the river level dropped. The coarse screen was clear, but the fine screen carried a mat of leaves and plastic film across its lower third, which raised the head loss to 180 mm."),
    ("h2", "Actions"),
    ("li", "Clean the fine screen by hand before the next high-flow period."),
    ("li", "Check the screen rake motor, which stalled twice during the visit."),
    ("li", "Log the head loss every shift until the rake is repaired."),
    ("p", "The note was signed on site and scanned for the maintenance file; it has no text layer."),
]


def write_scanned_pdf(path: Path, blocks, dpi: int = 150) -> None:
    """An image-only PDF as a scanner writes it: the typeset page rendered to a grey JPEG, no text layer."""
    with tempfile.TemporaryDirectory() as tmp:
        typeset = Path(tmp) / "typeset.pdf"
        write_pdf(typeset, blocks, "Helvetica")
        page = pypdfium2.PdfDocument(str(typeset))[0].render(scale=dpi / 72).to_pil().convert("L")
    page.save(path, "PDF", resolution=dpi, quality=80)


def write_pdf(path: Path, blocks, font: str, size: float = 11) -> None:
    """A text PDF with real heading sizes, wrapped paragraphs and bullet lists."""
    pdf = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    margin = 56
    y = height - margin
    wrap_chars = 46 if font != "Helvetica" else 92

    def line(text: str, font_name: str, font_size: float, indent: float = 0) -> None:
        nonlocal y
        if y < margin + font_size:
            pdf.showPage()
            y = height - margin
        pdf.setFont(font_name, font_size)
        pdf.drawString(margin + indent, y, text)
        y -= font_size * 1.45

    for kind, text in blocks:
        if kind in ("h1", "h2"):
            y -= 6
            line(text, font if font != "Helvetica" else "Helvetica-Bold", 18 if kind == "h1" else 14)
            continue
        prefix, indent = ("• ", 12) if kind == "li" else ("", 0)
        words = list(text) if font != "Helvetica" else text.split(" ")
        joiner = "" if font != "Helvetica" else " "
        current: list[str] = []
        for word in words:
            if len(joiner.join(current + [word])) > wrap_chars and current:
                line(prefix + joiner.join(current), font, size, indent)
                prefix = "  " if prefix else ""
                current = []
            current.append(word)
        if current:
            line(prefix + joiner.join(current), font, size, indent)
        y -= 4
    pdf.showPage()
    pdf.save()


def write_pptx(path: Path) -> None:
    prs = Presentation()
    slides = [
        ("Cooling System Upgrade 冷却系统升级", ["Goal: cut unplanned downtime by 30%", "目标：非计划停机减少30%", "Budget: 1.2 M EUR over two phases"]),
        ("Phase 1 — Monitoring", ["Vibration sensors on all pumps", "Alarms when vibration exceeds 4.5 mm/s", "因为早期预警可以避免轴承损坏，所以先上线监测"]),
        ("Phase 2 — Redundancy", ["Add a fourth pump to the northern line", "Automatic switch-over to standby within 10 s", "Risk: supplier lead time of 16 weeks"]),
    ]
    for title, bullets in slides:
        slide = prs.slides.add_slide(prs.slide_layouts[1])
        slide.shapes.title.text = title
        body = slide.placeholders[1].text_frame
        body.text = bullets[0]
        for bullet in bullets[1:]:
            body.add_paragraph().text = bullet
        slide.notes_slide.notes_text_frame.text = f"Speaker notes: {title}"
    table_slide = prs.slides.add_slide(prs.slide_layouts[5])
    table_slide.shapes.title.text = "Milestones 里程碑"
    shape = table_slide.shapes.add_table(3, 3, Inches(1), Inches(2), Inches(8), Inches(1.5))
    for r, values in enumerate([("Milestone", "Owner", "Date"), ("Sensors installed", "Maintenance", "2024-05"), ("Fourth pump online", "Engineering", "2024-11")]):
        for c, value in enumerate(values):
            cell = shape.table.cell(r, c)
            cell.text = value
            cell.text_frame.paragraphs[0].runs[0].font.size = PptPt(14)
    prs.save(path)


def write_xlsx(path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Incidents"
    ws["A1"] = "Incident log 事故记录 — northern line"
    ws.merge_cells("A1:E1")
    ws.append(["Date", "Asset", "Cause 原因", "Effect 影响", "Downtime (h)"])
    rows = [
        ("2024-02-03", "Pump B", "Bearing wear", "Vibration alarm, line slowed", 3.5),
        ("2024-02-19", "Valve V12", "Seal failure", "Leak, area closed", 1.0),
        ("2024-03-07", "Pump A", "密封泄漏", "停机检修", 2.0),
        ("2024-03-22", "Chiller 2", "Refrigerant low", "Cooling capacity -20%", 6.0),
        ("2024-04-02", "Pump C", "Standby not tested", "Failed to start on demand", 4.5),
    ]
    for row in rows:
        ws.append(list(row))
    ws.append(["Total", None, None, None, "=SUM(E3:E7)"])
    summary = wb.create_sheet("Summary")
    summary.append(["Metric", "Value"])
    summary.append(["Incidents", 5])
    summary.append(["Mean downtime (h)", "=AVERAGE(Incidents!E3:E7)"])
    wb.save(path)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    write_pdf(OUT / "pump-station-report.pdf", MAINTENANCE_EN, "Helvetica")
    write_pdf(OUT / "q3-operations-review-zh.pdf", FINANCE_ZH, "STSong-Light")
    write_scanned_pdf(OUT / "intake-inspection-scan.pdf", INSPECTION_SCAN_EN)
    write_docx(OUT / "pump-station-report.docx", MAINTENANCE_EN)
    write_docx(OUT / "q3-operations-review-zh.docx", FINANCE_ZH)
    write_pptx(OUT / "cooling-upgrade.pptx")
    write_xlsx(OUT / "incident-log.xlsx")
    for path in sorted(OUT.iterdir()):
        print(f"{path.name}\t{path.stat().st_size} bytes")


if __name__ == "__main__":
    main()

"""OCR of scanned pages (trainers/ocr.py): real RapidOCR and rapid-layout on pages rendered here from
born-digital PDFs, whose text layer is the truth; bad pages fail typed and alone; layout assembly
(reading order, tables, paragraphs, heading levels) on synthetic lines without the models."""
from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image
from temporalio.exceptions import CancelledError
from temporalio.testing import ActivityEnvironment

from trainers import ocr
from trainers.artifacts import artifact_store_from_env
from trainers.eval_metrics import text_token_f1
from trainers.ocr import Line, Region

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "corpus"
# The Chinese sample PDF's font is not embedded and this machine has no CJK font to render it with: the corpus's embeds its own.
SHARED_PDFS = Path(os.environ.get("LLMLOOP_SHARED_DIR", REPO.parent / "shared")) / "corpus" / "inputs" / "pdf"


def scanned(pdf: Path, page: int, dpi: int) -> tuple[Image.Image, str]:
    """One page of a born-digital PDF as pixels, and its text layer."""
    document = pdfium.PdfDocument(str(pdf))
    return document[page - 1].render(scale=dpi / 72).to_pil().convert("RGB"), document[page - 1].get_textpage().get_text_range()


def image_pdf(images: list[Image.Image], dpi: int) -> bytes:
    """An image-only PDF: one JPEG picture per page, no text layer (what a scanner writes)."""
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return out.getvalue()


def raw_image_pdf(width: int, height: int, filter_name: str, data: bytes, page_size: tuple[int, int] = (612, 792)) -> bytes:
    """A one-page PDF whose only content is a full-page picture with the given declared size, codec and bytes."""
    pw, ph = page_size
    content = f"q {pw} 0 0 {ph} 0 0 cm /Im0 Do Q".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {pw} {ph}] /Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>".encode(),
        f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /{filter_name} /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream",
        f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode() + b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def joined(pdfs: list[bytes]) -> bytes:
    document = pdfium.PdfDocument.new()
    for data in pdfs:
        document.import_pages(pdfium.PdfDocument(data))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMLOOP_DATA_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def scanned_en_zh():
    """Page 1 of the English sample report and of a Chinese corpus page, scanned at 150 dpi, with their text layers."""
    en, en_truth = scanned(SAMPLES / "pump-station-report.pdf", 1, 150)
    zh, zh_truth = scanned(SHARED_PDFS / "unstructured-simplified_chinese.pdf", 1, 150)
    return image_pdf([en, zh], 150), [en_truth, zh_truth]


def test_activity_reads_scanned_english_and_chinese_pages_close_to_their_text_layer(scanned_en_zh, data_dir):
    pdf, truths = scanned_en_zh
    store = artifact_store_from_env()
    heartbeats = []
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: heartbeats.append(details[0])
    result = env.run(ocr.ocr_pages, {"source": store.put(pdf, "application/pdf")})
    assert (result["pages"], result["failed"]) == (2, 0)
    assert [h["pages_done"] for h in heartbeats] == [0, 1]  # one heartbeat per page
    pages = store.get_json(result["ocr"])["pages"]
    for page, truth in zip(pages, truths):
        assert page["native_image"], "the scan's own picture is read, not a render of it"
        text = "\n".join(b["text"] for b in page["blocks"])
        assert text_token_f1(text, truth) >= 0.9, (page["unit"], text_token_f1(text, truth))
        assert all(b["source"] == "ocr" and 0 < b["confidence"] <= 1 for b in page["blocks"] if b["text"])
    english = pages[0]["blocks"]
    assert english[0]["type"] == "heading" and english[0]["level"] == 1, "the title comes first in reading order"


def test_bad_pages_fail_typed_and_the_others_are_still_read(data_dir):
    bomb = raw_image_pdf(20_000, 20_000, "FlateDecode", b"x\x9c" + b"\x00" * 16)
    truncated_jpeg = io.BytesIO()
    Image.new("RGB", (800, 1000), "white").save(truncated_jpeg, "JPEG")
    corrupt = raw_image_pdf(800, 1000, "DCTDecode", truncated_jpeg.getvalue()[: len(truncated_jpeg.getvalue()) // 3])
    unsupported = raw_image_pdf(800, 1000, "FancyWaveletDecode", b"\x00" * 64)
    huge_page = pdfium.PdfDocument.new()
    huge_page.new_page(7200, 7200)  # 100 x 100 inches: 20,000 x 20,000 px at 200 dpi
    buffer = io.BytesIO()
    huge_page.save(buffer)
    line, _ = scanned(SAMPLES / "pump-station-report.pdf", 1, 100)
    good = image_pdf([line.crop((0, 0, line.width, line.height // 4))], 100)
    result = ocr.ocr_document(joined([bomb, corrupt, unsupported, buffer.getvalue(), good]))
    errors = {p["unit"]: p["error"]["type"] for p in result["pages"] if "error" in p}
    assert errors == {1: "LimitExceeded", 2: "CorruptDocument", 3: "UnsupportedFormat", 4: "LimitExceeded"}
    assert result["pages"][4]["blocks"], "the good page after the bad ones is read"


def test_not_a_pdf_and_not_an_image_fail_typed():
    with pytest.raises(Exception) as failure:
        ocr.ocr_document(b"%PDF-1.7 this is not really a PDF")
    assert failure.value.type == "CorruptDocument"
    result = ocr.ocr_document(b"GIF89a\x00\x00 broken", kind="image")
    assert result["pages"][0]["error"]["type"] in ("UnsupportedFormat", "CorruptDocument")
    for side in (12_000, 20_000):  # over max_page_pixels; the second also over twice Pillow's own limit
        tiff_bomb = io.BytesIO()
        Image.new("1", (side, side)).save(tiff_bomb, "TIFF", compression="group4")
        assert ocr.ocr_document(tiff_bomb.getvalue(), kind="image")["pages"][0]["error"]["type"] == "LimitExceeded"


def png_declaring(width: int, height: int) -> bytes:
    """A 1 x 1 PNG whose header declares width x height (a decompression bomb's header, without its pixels)."""
    out = io.BytesIO()
    Image.new("RGB", (1, 1), "white").save(out, "PNG")
    data = bytearray(out.getvalue())
    ihdr = 8 + 8  # signature, then the IHDR chunk's length and type
    data[ihdr:ihdr + 8] = struct.pack(">II", width, height)
    data[ihdr + 13:ihdr + 17] = struct.pack(">I", zlib.crc32(bytes(data[ihdr - 4:ihdr + 13])))
    return bytes(data)


def test_embedded_pictures_of_an_office_package_are_read_and_bad_ones_fail_typed_alone(data_dir):
    page, _ = scanned(SAMPLES / "pump-station-report.pdf", 1, 100)
    good, truncated = io.BytesIO(), io.BytesIO()
    page.crop((0, 0, page.width, page.height // 4)).save(good, "PNG")
    Image.new("RGB", (400, 300), "white").save(truncated, "JPEG")
    wmf = b"\xd7\xcd\xc6\x9a\x00\x00" + struct.pack("<hhhhH", 0, 0, 1000, 1000, 1440) + b"\x00" * 6 + b"\x01\x00\x09\x00\x00\x03" + b"\x00" * 12
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
        z.writestr("word/media/bomb.png", png_declaring(20_000, 20_000))
        z.writestr("word/media/truncated.jpeg", truncated.getvalue()[: len(truncated.getvalue()) // 3])
        z.writestr("word/media/chart.wmf", wmf)
        z.writestr("word/media/cut.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
        z.writestr("word/media/scan.png", good.getvalue())
    parts = ["word/media/bomb.png", "word/media/truncated.jpeg", "word/media/chart.wmf", "word/media/cut.png", "word/media/missing.png", "word/media/scan.png"]
    store = artifact_store_from_env()
    request = {"source": store.put(package.getvalue(), "application/octet-stream"), "images": parts}
    summary = ActivityEnvironment().run(ocr.ocr_pages, request)
    assert (summary["pages"], summary["failed"]) == (1, 5)
    pages = store.get_json(summary["ocr"])["pages"]
    assert [p["part"] for p in pages] == parts
    assert [p.get("error", {}).get("type") for p in pages] == ["LimitExceeded", "CorruptDocument", "UnsupportedFormat", "CorruptDocument", "InvalidRequest", None]
    assert pages[1]["error"]["message"].startswith("picture word/media/truncated.jpeg: ")
    text = " ".join(b["text"] for b in pages[5]["blocks"])
    assert "Pump Station" in text and all(b["source"] == "ocr" for b in pages[5]["blocks"])
    with pytest.raises(Exception) as failure:
        ocr.ocr_document(b"PK not a zip", images=parts)
    assert failure.value.type == "CorruptDocument"


def test_cancellation_is_honoured_between_pages(data_dir):
    store = artifact_store_from_env()
    pdf = joined([raw_image_pdf(10, 10, "FancyWaveletDecode", b"\x00")] * 3)
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: env.cancel()
    with pytest.raises(CancelledError):
        env.run(ocr.ocr_pages, {"source": store.put(pdf, "application/pdf")})


# ---------------------------------------------------------------- assembly, without the models


def line(text: str, x0: float, y0: float, x1: float, height: float = 10, score: float = 0.99) -> Line:
    return Line(text, score, x0, y0, x1, y0 + height)


def test_reading_order_follows_columns_under_a_full_width_title():
    title = Region("title", 50, 40, 550, 60, [])
    left = [Region("text", 50, 100 + 120 * i, 290, 200 + 120 * i, []) for i in range(3)]
    right = [Region("text", 310, 90 + 150 * i, 550, 220 + 150 * i, []) for i in range(2)]
    footer_figure = Region("figure", 50, 500, 550, 700, [])
    order = ocr.reading_order([right[1], left[2], footer_figure, left[0], title, right[0], left[1]])
    assert order == [title, *left, *right, footer_figure]


def test_table_region_lines_become_a_grid_and_paragraph_lines_a_paragraph():
    table = Region("table", 0, 0, 400, 100, [
        line("Pump", 10, 10, 60), line("Flow", 150, 10, 190), line("Hours", 300, 10, 340),
        line("P-101", 10, 30, 60), line("120 m3/h", 150, 30, 220), line("4,120", 300, 30, 340),
        line("P-102", 10, 50, 60), line("95 m3/h", 150, 50, 210), line("3,980", 300, 50, 340),
    ])
    cells = ocr.table_cells(table)
    assert [(c["row"], c["col"], c["text"]) for c in cells][:4] == [(0, 0, "Pump"), (0, 1, "Flow"), (0, 2, "Hours"), (1, 0, "P-101")]
    assert all(c.get("header") for c in cells if c["row"] == 0)
    prose = Region("text", 0, 0, 400, 100, [line("Inspection of the intake screens and the fine-", 10, 10, 390), line("mesh filter continued.", 10, 24, 200), line("• Replace seals", 10, 50, 150), line("and gaskets.", 22, 64, 120), line("Signed on site.", 10, 78, 120)])
    assert [(p, bullet) for p, _, bullet in ocr.paragraphs(prose)] == [("Inspection of the intake screens and the fine-mesh filter continued.", False), ("• Replace seals and gaskets.", True), ("Signed on site.", False)]
    blocks = ocr.page_blocks([prose], unit=3, page_height=800, low_confidence=0.8)
    assert [(b["type"], b["text"], b.get("marker")) for b in blocks] == [("paragraph", "Inspection of the intake screens and the fine-mesh filter continued.", None), ("list_item", "Replace seals and gaskets.", "•"), ("paragraph", "Signed on site.", None)]
    assert all(b["unit"] == 3 and b["source"] == "ocr" for b in blocks)


def test_chinese_lines_join_without_spaces_and_low_confidence_is_flagged():
    region = Region("text", 0, 0, 300, 40, [line("第三季度运营", 0, 0, 120, score=0.6), line("回顾", 0, 14, 40, score=0.7)])
    [block] = ocr.page_blocks([region], unit=1, page_height=800, low_confidence=0.8)
    assert block["text"] == "第三季度运营回顾"
    assert block["low_confidence"] is True and block["confidence"] < 0.8


def test_heading_levels_rank_title_sizes_across_the_document_and_furniture_stays_apart():
    pages = [
        {"blocks": ocr.page_blocks([Region("title", 0, 100, 300, 130, [line("Annual report", 0, 100, 300, 28)]), Region("footer", 0, 770, 300, 790, [line("3", 150, 772, 160)])], 1, 800, 0.8)},
        {"blocks": ocr.page_blocks([Region("title", 0, 100, 300, 120, [line("1 Scope", 0, 100, 100, 16)]), Region("title", 0, 200, 300, 215, [line("1.1 Sites", 0, 200, 100, 15)])], 2, 800, 0.8)},
    ]
    ocr.rank_headings(pages)
    assert [(b["text"], b["level"]) for p in pages for b in p["blocks"] if b["type"] == "heading"] == [("Annual report", 1), ("1 Scope", 2), ("1.1 Sites", 2)]
    assert [(b["type"], b["layer"]) for b in pages[0]["blocks"] if b["type"] != "heading"] == [("page_number", "furniture")]


def test_models_come_from_the_wheels_never_from_the_network(monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("OCR tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    ocr.text_engine.cache_clear()
    ocr.layout_engine.cache_clear()
    blank = Image.new("RGB", (400, 200), "white")
    assert ocr.ocr_document(image_pdf([blank], 72))["pages"][0]["blocks"] == []
    assert "rapidocr 3.10.0" in ocr.engine_name()


def test_a_single_column_of_narrow_regions_reads_top_to_bottom():
    regions = [Region("text", 60 + 5 * (i % 2), 100 + 50 * i, 300, 140 + 50 * i, []) for i in range(4)]
    assert ocr.reading_order(list(reversed(regions))) == regions

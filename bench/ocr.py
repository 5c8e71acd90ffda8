"""OCR bench: pages/s of the OCR pipeline (trainers/ocr.py: page image, RapidOCR lines, rapid-layout
regions, blocks) against RapidOCR's own page rate on the same page images in the same run, token
F1 of each scanned file against its born-digital text, and resident memory over a long scan.

    .venv/bin/python -m bench.ocr                    # rate, F1 per file, then a JSON summary line
    .venv/bin/python -m bench.ocr --rss-pages 100    # resident memory over a 100-page scan

The scans are made here: pages of ../shared/corpus PDFs (English, Chinese) rendered at 150 or 200
dpi into image-only PDFs (one JPEG per page, no text layer, as a scanner writes them), whose text
layer is the truth, and German pages typeset here with DejaVu Sans, whose text is the truth.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import psutil
import pypdfium2 as pdfium
from PIL import Image, ImageDraw, ImageFont

from trainers import ocr
from trainers.eval_metrics import text_token_f1

REPO = Path(__file__).resolve().parent.parent
PDFS = Path(os.environ.get("LLMLOOP_SHARED_DIR", REPO.parent / "shared")) / "corpus" / "inputs" / "pdf"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

# (file, pages, dpi): 22 pages, as the held-out set (English, German, Chinese; 150-200 dpi).
SCANS = [
    ("docling-multi_page.pdf", [1, 2, 3, 4, 5], 200),
    ("docling-redp5110_sampled.pdf", [1, 3, 5, 7, 9, 11], 150),
    ("unstructured-multi-column-2p.pdf", [1, 2], 150),
    ("docling-2305.03393v1-pg9.pdf", [1], 200),
    ("markitdown-test-pdf.pdf", [1], 150),
    ("markitdown-SPARSE-2024-INV-1234_borderless_table.pdf", [1, 2], 200),
    ("unstructured-simplified_chinese.pdf", [1], 200),
]
GERMAN = [
    "Wartungsbericht Pumpwerk Nord\n\nDie Inspektion im März ergab, dass die Lager der Pumpe B deutlich wärmer laufen als im Vorjahr. "
    "Die Schwingungen stiegen innerhalb von sechs Wochen von 2,1 auf 6,8 Millimeter pro Sekunde. Das Prüfteam empfiehlt, das Lager "
    "auf der Antriebsseite vor dem Sommer zu tauschen, weil ein Ausfall die Kühlleistung der nördlichen Produktionslinie um ein Drittel "
    "verringern würde.\n\nMaßnahmen\n\nDie Dichtung der Pumpe A verliert zwei Tropfen pro Minute und wird beim nächsten Stillstand ersetzt. "
    "Der Rechen vor dem Feinsieb blieb während des Besuchs zweimal stehen; sein Motor wird geprüft. Bis zur Reparatur wird der Druckverlust "
    "in jeder Schicht notiert.",
    "Quartalsbericht Betrieb\n\nIm dritten Quartal stieg der Umsatz um 8,4 Prozent auf 12,6 Millionen Euro. Das Wachstum kam vor allem "
    "von neuen Kunden im Osten, deren Verträge im Juli begannen. Höhere Rohstoffpreise senkten die Bruttomarge um 1,2 Prozentpunkte.\n\n"
    "Ausblick\n\nFür das vierte Quartal erwartet die Geschäftsführung ein stabiles Wachstum. Die neue Fertigungslinie verkürzt die "
    "Lieferzeit um eine Woche. Forderungen, die älter als neunzig Tage sind, machen inzwischen achtzehn Prozent aus und sollen schneller "
    "eingezogen werden.",
]


def image_pdf(images: list[Image.Image], dpi: int) -> bytes:
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return out.getvalue()


def rendered_scan(name: str, pages: list[int], dpi: int) -> tuple[bytes, list[Image.Image], str]:
    document = pdfium.PdfDocument(str(PDFS / name))
    images = [document[p - 1].render(scale=dpi / 72).to_pil().convert("RGB") for p in pages]
    truth = "\n".join(document[p - 1].get_textpage().get_text_range() for p in pages)
    return image_pdf(images, dpi), images, truth


def typeset_scan(text: str, dpi: int = 200) -> tuple[bytes, list[Image.Image], str]:
    """One A4 page of wrapped text at 11 pt (headings 16 pt), drawn at `dpi`."""
    width, height, margin = round(8.27 * dpi), round(11.69 * dpi), round(0.8 * dpi)
    page = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(page)
    y = margin
    for para in text.split("\n\n"):
        heading = len(para) < 40
        font = ImageFont.truetype(FONT, round((16 if heading else 11) * dpi / 72))
        line = ""
        for word in para.split(" ") + [None]:
            if word is not None and draw.textlength(f"{line} {word}".strip(), font=font) <= width - 2 * margin:
                line = f"{line} {word}".strip()
                continue
            draw.text((margin, y), line, font=font, fill="black")
            y += round(font.size * 1.45)
            line = word or ""
        y += round(font.size * 0.8)
    return image_pdf([page], dpi), [page], text


def scans() -> list[tuple[str, bytes, list[Image.Image], str]]:
    made = [(f"{name} p{','.join(map(str, pages))} @{dpi}dpi", *rendered_scan(name, pages, dpi)) for name, pages, dpi in SCANS]
    made += [(f"german-{i + 1} (typeset) @200dpi", *typeset_scan(text)) for i, text in enumerate(GERMAN)]
    return made


def rss_over_long_scan(pages: int) -> dict:
    """Resident memory while OCR runs through a `pages`-page scan: after page 10 and at the end.
    Each page is a full A4 scan at 200 dpi holding the top fifth of a text page, so that a long scan runs quickly."""
    _, [full], _ = rendered_scan("docling-multi_page.pdf", [1], 200)
    one = Image.new("RGB", full.size, "white")
    one.paste(full.crop((0, 0, full.width, full.height // 5)))
    process = psutil.Process()
    samples: list[float] = []
    started = time.perf_counter()
    ocr.ocr_document(image_pdf([one] * pages, 200), on_page=lambda done, total: samples.append(process.memory_info().rss / 2**20))
    return {"pages": pages, "seconds": round(time.perf_counter() - started, 1), "rss_mib_after_page_10": round(samples[min(10, len(samples) - 1)]), "rss_mib_at_end": round(samples[-1]), "rss_mib_max": round(max(samples))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rss-pages", type=int, default=0, help="only OCR a scan of this many pages (e.g. 100) and report resident memory")
    args = parser.parse_args()
    if args.rss_pages:
        print(json.dumps(rss_over_long_scan(args.rss_pages)))
        return

    made = scans()
    engine = ocr.text_engine()
    ocr.layout_engine()
    engine(np.asarray(made[0][2][0]))  # both sessions warm before timing

    print("| file | pages | token F1 (pipeline) | token F1 (RapidOCR lines) | pipeline s | RapidOCR s |\n| --- | --- | --- | --- | --- | --- |", flush=True)
    rows = []
    baseline_s = pipeline_s = 0.0
    pages = 0
    for name, pdf, images, truth in made:
        started = time.perf_counter()
        raw = [engine(np.asarray(image)) for image in images]
        baseline = time.perf_counter() - started
        started = time.perf_counter()
        result = ocr.ocr_document(pdf)
        pipeline = time.perf_counter() - started
        text = "\n".join(b["text"] for p in result["pages"] for b in p.get("blocks", []))
        raw_text = "\n".join(t for r in raw for t in (r.txts or ()))
        rows.append({"file": name, "pages": len(images), "f1": round(text_token_f1(text, truth), 3), "rapidocr_f1": round(text_token_f1(raw_text, truth), 3), "pipeline_s": round(pipeline, 2), "rapidocr_s": round(baseline, 2)})
        baseline_s, pipeline_s, pages = baseline_s + baseline, pipeline_s + pipeline, pages + len(images)
        r = rows[-1]
        print(f"| {r['file']} | {r['pages']} | {r['f1']} | {r['rapidocr_f1']} | {r['pipeline_s']} | {r['rapidocr_s']} |", flush=True)

    summary = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 1),
        "engine": ocr.engine_name(),
        "files": len(rows),
        "pages": pages,
        "mean_f1": round(statistics.fmean(r["f1"] for r in rows), 3),
        "worst_f1": min(r["f1"] for r in rows),
        "rapidocr_mean_f1": round(statistics.fmean(r["rapidocr_f1"] for r in rows), 3),
        "pipeline_pages_per_s": round(pages / pipeline_s, 3),
        "rapidocr_pages_per_s": round(pages / baseline_s, 3),
        "pipeline_rate_vs_rapidocr": round(baseline_s / pipeline_s, 2),
    }
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()

/**
 * Merges OCR results (trainers/ocr.py's OcrResult) into a parsed DocumentModel: each OCR'd page's
 * blocks take that page's place in reading order, replacing whatever the text layer gave it (nothing
 * for a `needs_ocr` page; everything under `--ocr force`). Ids are renumbered b1, b2, ... over the
 * whole document and the section tree is linked again, so the result reads as one parse. A picture
 * embedded in a DOCX/PPTX/XLSX (OcrPage.part) gives its text to the image blocks that show it.
 */
import type { DocumentBlock, DocumentModel, DocumentWarning, OcrMode, OcrOptions, OcrPage, OcrResult } from '../../schemas/generated/types';
import { TypedError } from '../errors';
import { linkSections } from './index';

/** The PDF pages to send to OCR under `mode`: none when off, the pages without a text layer under auto, all under force. */
export function pagesToOcr(model: DocumentModel, mode: OcrMode): number[] {
  if (mode === 'off' || model.source.format !== 'pdf') return [];
  if (mode === 'force') return model.units.map((u) => u.index);
  return model.warnings.filter((w) => w.code === 'needs_ocr' && w.unit !== undefined).map((w) => w.unit!);
}

/** The embedded pictures to OCR: with `images_min_bytes` set, the media parts of a DOCX/PPTX/XLSX's image blocks of at least that size. */
export function imagesToOcr(model: DocumentModel, options: OcrOptions): string[] {
  const minBytes = options.images_min_bytes;
  if (options.mode === 'off' || minBytes === undefined || model.source.format === 'pdf') return [];
  return [...new Set(model.blocks.filter((b) => b.type === 'image' && b.image_part !== undefined && (b.image_bytes ?? 0) >= minBytes).map((b) => b.image_part!))];
}

export function mergeOcr(model: DocumentModel, ocr: OcrResult): DocumentModel {
  const pictures = ocr.pages.filter((p) => p.part !== undefined);
  if (pictures.length) return mergePictureOcr(model, pictures);
  const read = new Map(ocr.pages.filter((p) => p.blocks).map((p) => [p.unit, p.blocks!]));
  const failed = ocr.pages.filter(hasError);
  const byUnit = new Map<number, DocumentBlock[]>();
  for (const block of model.blocks) if (!read.has(block.unit)) byUnit.set(block.unit, [...(byUnit.get(block.unit) ?? []), block]);
  for (const [unit, blocks] of read) byUnit.set(unit, blocks);

  const renamed = new Map<string, string>();
  const blocks = [...byUnit.keys()]
    .sort((a, b) => a - b)
    .flatMap((unit) => byUnit.get(unit)!)
    .map((block, i) => {
      renamed.set(block.id, `b${i + 1}`);
      const { parent: _parent, ...rest } = block;
      return { ...rest, id: `b${i + 1}` };
    });
  for (const block of blocks) renameReferences(block, renamed);
  linkSections(blocks, false);

  const warnings: DocumentWarning[] = [
    // A page that was read needs OCR no more; one that failed keeps its warning and says why.
    ...model.warnings.filter((w) => !(w.code === 'needs_ocr' && w.unit !== undefined && read.has(w.unit))),
    ...failed.map((p) => ({ code: 'ocr_failed', unit: p.unit, message: `${p.error.type}: ${p.error.message}` })),
  ];
  return { ...model, blocks, warnings };
}

const hasError = (p: OcrPage): p is OcrPage & { error: { type: string; message: string } } => p.error !== undefined;

/**
 * Embedded pictures: each image block showing a picture that was read carries its text (blocks in
 * reading order, one per line), `source: "ocr"` and their confidence weighted by characters, as a
 * block's own is; the author's alt text stays in `alt_text`. A picture that could not be read is an
 * `ocr_failed` warning.
 */
function mergePictureOcr(model: DocumentModel, pictures: OcrPage[]): DocumentModel {
  // A picture without text (a photo: at most an empty figure region) leaves its block as it was.
  const withText = (p: OcrPage) => (p.blocks ?? []).filter((b) => b.text.trim());
  const read = new Map(pictures.filter((p) => withText(p).length).map((p) => [p.part!, withText(p)]));
  const blocks = model.blocks.map((block) => {
    const found = block.type === 'image' && block.image_part !== undefined ? read.get(block.image_part) : undefined;
    if (!found) return block;
    const text = found.map((b) => b.text).join('\n');
    const chars = found.map((b) => Math.max(b.text.length, 1));
    const confidence = Math.round((found.reduce((sum, b, i) => sum + (b.confidence ?? 1) * chars[i]!, 0) / chars.reduce((a, b) => a + b, 0)) * 1e4) / 1e4;
    return { ...block, text, source: 'ocr' as const, confidence, ...(found.some((b) => b.low_confidence) ? { low_confidence: true } : {}) };
  });
  const unitOf = (part: string) => model.blocks.find((b) => b.image_part === part)?.unit;
  const warnings = pictures.filter(hasError).map((p) => ({ code: 'ocr_failed', ...(unitOf(p.part!) !== undefined ? { unit: unitOf(p.part!)! } : {}), message: `${p.error.type}: ${p.error.message}` }));
  return { ...model, blocks, warnings: [...model.warnings, ...warnings] };
}

/** Table cells and nested blocks point at block ids, which renumbering changed. */
function renameReferences(block: DocumentBlock, renamed: Map<string, string>): void {
  if (block.parent_cell) block.parent_cell = { ...block.parent_cell, block: renamed.get(block.parent_cell.block) ?? block.parent_cell.block };
  if (block.cells?.some((c) => c.nested_blocks)) {
    block.cells = block.cells.map((c) => (c.nested_blocks ? { ...c, nested_blocks: c.nested_blocks.map((id) => renamed.get(id) ?? id) } : c));
  }
}

/** Warnings for pages (or pictures) whose OCR did not run at all: the whole run failed with `err`. */
export function ocrFailedWarnings(pages: readonly number[], err: unknown, images: readonly string[] = []): DocumentWarning[] {
  const reason = err instanceof TypedError ? `${err.type}: ${err.message}` : `OcrFailed: ${err instanceof Error ? err.message : String(err)}`;
  return [...pages.map((unit) => ({ code: 'ocr_failed', unit, message: reason })), ...images.map((part) => ({ code: 'ocr_failed', message: `${reason} (picture ${part})` }))];
}

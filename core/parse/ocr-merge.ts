/**
 * Merges OCR results (trainers/ocr.py's OcrResult) into a parsed DocumentModel: each OCR'd page's
 * blocks take that page's place in reading order, replacing whatever the text layer gave it (nothing
 * for a `needs_ocr` page; everything under `--ocr force`). Ids are renumbered b1, b2, ... over the
 * whole document and the section tree is linked again, so the result reads as one parse.
 */
import type { DocumentBlock, DocumentModel, DocumentWarning, OcrMode, OcrPage, OcrResult } from '../../schemas/generated/types';
import { TypedError } from '../errors';
import { linkSections } from './index';

/** The PDF pages to send to OCR under `mode`: none when off, the pages without a text layer under auto, all under force. */
export function pagesToOcr(model: DocumentModel, mode: OcrMode): number[] {
  if (mode === 'off' || model.source.format !== 'pdf') return [];
  if (mode === 'force') return model.units.map((u) => u.index);
  return model.warnings.filter((w) => w.code === 'needs_ocr' && w.unit !== undefined).map((w) => w.unit!);
}

export function mergeOcr(model: DocumentModel, ocr: OcrResult): DocumentModel {
  const read = new Map(ocr.pages.filter((p) => p.blocks).map((p) => [p.unit, p.blocks!]));
  const failed = ocr.pages.filter((p): p is OcrPage & { error: { type: string; message: string } } => p.error !== undefined);
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

/** Table cells and nested blocks point at block ids, which renumbering changed. */
function renameReferences(block: DocumentBlock, renamed: Map<string, string>): void {
  if (block.parent_cell) block.parent_cell = { ...block.parent_cell, block: renamed.get(block.parent_cell.block) ?? block.parent_cell.block };
  if (block.cells?.some((c) => c.nested_blocks)) {
    block.cells = block.cells.map((c) => (c.nested_blocks ? { ...c, nested_blocks: c.nested_blocks.map((id) => renamed.get(id) ?? id) } : c));
  }
}

/** Warnings for pages whose OCR did not run at all: the whole run failed with `err`. */
export function ocrFailedWarnings(pages: readonly number[], err: unknown): DocumentWarning[] {
  const reason = err instanceof TypedError ? `${err.type}: ${err.message}` : `OcrFailed: ${err instanceof Error ? err.message : String(err)}`;
  return pages.map((unit) => ({ code: 'ocr_failed', unit, message: reason }));
}

import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../../core/config';
import { planFromDocuments } from '../../../core/dataset/build';
import { resolveBuildConfig } from '../../../core/dataset/config';
import { chunkWorks, draftChunk, toSample } from '../../../core/dataset/generate';
import { parseDocument } from '../../../core/parse';
import { mergeOcr, pagesToOcr } from '../../../core/parse/ocr-merge';
import { ocrPdfFile } from '../../../core/parse/ocr-python';
import type { DocumentBlock, DocumentModel } from '../../../schemas/generated/types';

const SENTENCE = 'The fine screen carried a mat of leaves and plastic film across its lower third, which raised the head loss.';

/** Page 1 born-digital, page 2 read by OCR at the given confidences. */
function scannedReport(confidences: number[]): DocumentModel {
  const ocr = (i: number, text: string, extra: Partial<DocumentBlock>): DocumentBlock => ({ id: `b${i}`, unit: 2, layer: 'body', type: 'paragraph', text, source: 'ocr', confidence: confidences[i - 3]!, ...extra });
  return {
    schema_version: '1',
    source: { path: 'report.pdf', sha256: 'a'.repeat(64), bytes: 1, format: 'pdf' },
    units: [1, 2].map((index) => ({ kind: 'page', index })),
    blocks: [
      { id: 'b1', unit: 1, layer: 'body', type: 'heading', level: 1, text: 'Pump station report' },
      { id: 'b2', unit: 1, layer: 'body', type: 'paragraph', parent: 'b1', text: `Typed text. ${SENTENCE}` },
      ocr(3, 'Intake screens', { type: 'heading', level: 1 }),
      ocr(4, `Scanned text. ${SENTENCE}`, { parent: 'b3' }),
    ],
    warnings: [],
  };
}

describe('dataset chunks from OCR\'d pages', () => {
  const plan = (confidences: number[], overrides = {}) => planFromDocuments([{ input: 'doc', value: scannedReport(confidences) }], resolveBuildConfig(overrides)).chunks.filter((c) => c.kind === 'section');

  it('carry the lowest confidence of their OCR blocks; typed text carries none', () => {
    expect(plan([0.97, 0.9]).map((c) => [c.title, c.ocr_confidence])).toEqual([['Pump station report', undefined], ['Intake screens', 0.9]]);
  });

  it('can be left out, or gated by confidence', () => {
    expect(plan([0.97, 0.9], { exclude_ocr: true }).map((c) => c.title)).toEqual(['Pump station report']);
    expect(plan([0.97, 0.6], { min_ocr_confidence: 0.8 }).map((c) => c.title)).toEqual(['Pump station report']);
    expect(plan([0.97, 0.85], { min_ocr_confidence: 0.8 }).map((c) => c.title)).toEqual(['Pump station report', 'Intake screens']);
  });
});

describe('the demo corpus scan (samples/corpus/intake-inspection-scan.pdf)', () => {
  it('read by OCR (python -m trainers.ocr, real models), reaches the dataset: its samples carry source ocr in provenance', async () => {
    const scan = path.join(REPO_ROOT, 'samples', 'corpus', 'intake-inspection-scan.pdf');
    const parsed = await parseDocument(fs.readFileSync(scan), { path: scan });
    expect(pagesToOcr(parsed, 'auto')).toEqual([1]);
    const model = mergeOcr(parsed, await ocrPdfFile(scan, [1]));
    const plan = planFromDocuments([{ input: scan, value: model }], resolveBuildConfig({}));
    expect(plan.skipped_documents).toEqual([]);
    const samples = chunkWorks(plan).flatMap((work) => draftChunk(work).map((draft) => toSample(draft, work.chunk)));
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.every((s) => s.provenance.source === 'ocr' && s.provenance.ocr_confidence! > 0.8)).toBe(true);
  }, 180_000);
});

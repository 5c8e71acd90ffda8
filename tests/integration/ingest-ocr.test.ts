import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { artifactStoreFromEnv } from '../../core/artifacts';
import { REPO_ROOT, TASK_QUEUE_CPU } from '../../core/config';
import { schemaProblems } from '../../core/schemas';
import type { DocumentModel, IngestInput, IngestManifest } from '../../schemas/generated/types';
import { ingestDocuments } from '../../workflows';
import { startPythonWorker, testClient, testNodeWorker } from '../helpers/temporal';
import { docx, paragraph } from '../unit/parse/fixtures';

jest.setTimeout(240_000);

const SCAN = path.join(REPO_ROOT, 'samples', 'corpus', 'intake-inspection-scan.pdf');
const TEXT_PDF = path.join(REPO_ROOT, 'samples', 'corpus', 'pump-station-report.pdf');

/** ingestDocuments with the OCR activity served by a real Python worker (RapidOCR + rapid-layout on the CPU). */
describe('ingestDocuments OCRs scanned pages on the Python worker', () => {
  let python: Awaited<ReturnType<typeof startPythonWorker>>;
  beforeAll(async () => {
    python = await startPythonWorker('cpu');
  });
  afterAll(async () => {
    await python?.stop();
  });

  async function ingest(input: IngestInput): Promise<IngestManifest> {
    const client = await testClient();
    const worker = await testNodeWorker();
    return worker.runUntil(client.workflow.execute(ingestDocuments, { taskQueue: TASK_QUEUE_CPU, workflowId: `ingest-ocr-${randomUUID()}`, args: [input] }));
  }
  const model = (manifest: IngestManifest, at: number) => artifactStoreFromEnv().getJson<DocumentModel>(manifest.entries[at]!.document!);

  it('merges the OCR of a scanned page into its DocumentModel, leaves born-digital text alone, and reuses the merge on a rerun', async () => {
    const manifest = await ingest({ sources: [{ path: SCAN }, { path: TEXT_PDF }] });
    expect(manifest.entries.map((e) => [e.ok, e.warnings])).toEqual([[true, []], [true, []]]);
    const scanned = await model(manifest, 0);
    expect(schemaProblems('DocumentModel', scanned)).toEqual([]);
    expect(scanned.blocks[0]).toMatchObject({ type: 'heading', level: 1, text: 'Intake Screen Inspection Note', source: 'ocr' });
    expect(scanned.blocks.every((b) => b.source === 'ocr' && b.confidence! > 0.8)).toBe(true);
    expect((await model(manifest, 1)).blocks.some((b) => b.source !== undefined)).toBe(false);

    const again = await ingest({ sources: [{ path: SCAN }] });
    expect(again.entries[0]).toMatchObject({ reused: true, document: manifest.entries[0]!.document });
  });

  it('with OCR off the page keeps its needs_ocr warning; a page OCR refuses keeps it too, with the typed reason', async () => {
    const off = await ingest({ sources: [{ path: SCAN }], ocr: { mode: 'off' } });
    expect(off.entries[0]!.warnings).toEqual(['needs_ocr']);
    const refused = await ingest({ sources: [{ path: SCAN }], ocr: { max_page_pixels: 10 } });
    expect(refused.entries[0]).toMatchObject({ ok: true, reused: false, warnings: ['needs_ocr', 'ocr_failed'] });
    expect((await model(refused, 0)).warnings[1]!.message).toMatch(/^LimitExceeded: page 1: /);
  });

  it('by option, OCRs a picture embedded in a DOCX and puts its text on the image block', async () => {
    // The scan's page picture (the JPEG inside the PDF) embedded in a Word document.
    const pdf = fs.readFileSync(SCAN);
    const jpeg = pdf.subarray(pdf.indexOf(Buffer.from([0xff, 0xd8, 0xff])), pdf.lastIndexOf(Buffer.from([0xff, 0xd9])) + 2);
    const picture = '<w:p><w:r><w:drawing><wp:inline><wp:docPr id="1" name="Picture 1"/><a:graphic><a:graphicData><pic:pic><pic:blipFill><a:blip r:embed="rId1"/></pic:blipFill></pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>';
    const rels = '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="media/image1.jpeg"/></Relationships>';
    const file = path.join(os.tmpdir(), `llmloop-scan-${randomUUID()}.docx`);
    fs.writeFileSync(file, docx(paragraph('Attached scan') + picture, { 'word/_rels/document.xml.rels': rels, 'word/media/image1.jpeg': jpeg }));
    try {
      const manifest = await ingest({ sources: [{ path: file }], ocr: { images_min_bytes: 10_000 } });
      expect(manifest.entries[0]).toMatchObject({ ok: true, warnings: [] });
      const image = (await model(manifest, 0)).blocks.find((b) => b.type === 'image')!;
      expect(image).toMatchObject({ source: 'ocr', image_part: 'word/media/image1.jpeg' });
      expect(image.text).toContain('Intake Screen Inspection Note');
      expect(image.confidence).toBeGreaterThan(0.8);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });
});

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { artifactStoreFromEnv } from '../../core/artifacts';
import { TASK_QUEUE_CPU } from '../../core/config';
import { schemaProblems } from '../../core/schemas';
import { corpusDir } from '../../scripts/score-corpus';
import type { DocumentModel, IngestInput, IngestManifest } from '../../schemas/generated/types';
import { ingestDocuments } from '../../workflows';
import { recordHistory } from '../helpers/histories';
import { testClient, testNodeWorker } from '../helpers/temporal';

jest.setTimeout(180_000);

const corpus = (format: string, name: string) => path.join(corpusDir(), 'inputs', format, name);

describe('ingestDocuments on a real Temporal dev server', () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-ingest-'));
  const garbage = path.join(scratch, 'garbage.pdf');
  fs.writeFileSync(garbage, Buffer.from('this is not a document at all, whatever the extension says'));
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  async function ingest(input: IngestInput, historyName?: string): Promise<{ manifest: IngestManifest; workflowId: string }> {
    const client = await testClient();
    const worker = await testNodeWorker();
    const workflowId = `ingest-${randomUUID()}`;
    const manifest = await worker.runUntil(client.workflow.execute(ingestDocuments, { taskQueue: TASK_QUEUE_CPU, workflowId, args: [input] }));
    // The replay test replays under the history's file name as workflow id, which would rename the
    // parent's children; a batch (no children of its own) replays as recorded.
    if (historyName) await recordHistory(client.workflow.getHandle(`${workflowId}/batch-1`), historyName);
    return { manifest, workflowId };
  }

  it('parses a mixed batch in child batches; bad files get typed errors without failing the batch; reruns reuse parsed content', async () => {
    const store = artifactStoreFromEnv();
    const pptx = await store.putFile(corpus('pptx', 'docling-powerpoint_sample.pptx'), 'application/vnd.openxmlformats-officedocument.presentationml.presentation');
    const input: IngestInput = {
      sources: [
        { path: corpus('docx', 'docling-word_tables.docx') },
        { path: corpus('xlsx', 'docling-xlsx_01.xlsx') },
        { artifact: pptx, name: 'deck.pptx' },
        { path: corpus('pdf', 'docling-multi_page.pdf') },
        { path: garbage },
        { path: corpus('pdf', 'docling-2206.01062_pg3-password.pdf') },
        { path: path.join(scratch, 'missing.docx') },
      ],
      concurrency: 2,
      batch_size: 3,
    };
    const { manifest, workflowId } = await ingest(input, 'ingest-documents-batch');
    expect(schemaProblems('IngestManifest', manifest)).toEqual([]);
    expect(manifest.entries.map((e) => e.source)).toEqual(input.sources);
    expect(manifest.entries.map((e) => (e.ok ? e.format : e.error!.type))).toEqual(['docx', 'xlsx', 'pptx', 'pdf', 'UnsupportedFormat', 'EncryptedDocument', 'InvalidRequest']);
    expect([manifest.ok, manifest.failed]).toEqual([4, 3]);

    for (const entry of manifest.entries.filter((e) => e.ok)) {
      const model = await store.getJson<DocumentModel>(entry.document!);
      expect(schemaProblems('DocumentModel', model)).toEqual([]);
      expect(model.source.sha256).toBe(entry.source_sha256);
      expect(model.units).toHaveLength(entry.units!);
      expect((await store.get(entry.markdown!)).toString('utf8').length).toBeGreaterThan(50);
    }

    // Seven sources in batches of three: the parent's history holds three child results, not seven activities.
    const client = await testClient();
    const parentEvents = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    expect(parentEvents.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toHaveLength(3);
    expect(parentEvents.filter((e) => e.activityTaskScheduledEventAttributes)).toHaveLength(0);
    // Typed failures are not retried: every parse activity in the batches ran exactly once.
    for (const batch of [1, 2, 3]) {
      const events = (await client.workflow.getHandle(`${workflowId}/batch-${batch}`).fetchHistory()).events ?? [];
      expect(events.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt)).toEqual(
        events.filter((e) => e.activityTaskStartedEventAttributes).map(() => 1),
      );
    }

    const again = await ingest({ sources: input.sources.slice(0, 4) });
    expect(again.manifest.entries.map((e) => e.reused)).toEqual([true, true, true, true]);
    expect(again.manifest.entries.map((e) => e.document)).toEqual(manifest.entries.slice(0, 4).map((e) => e.document));
  });

  it('opens an encrypted PDF with the batch password', async () => {
    const { manifest } = await ingest({ sources: [{ path: corpus('pdf', 'docling-2206.01062_pg3-password.pdf') }], password: '1234' });
    expect(manifest.entries[0]).toMatchObject({ ok: true, format: 'pdf', units: 1 });
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalArtifactStore } from '../../../core/artifacts';
import { buildDatasetLocally, resolveBuildConfig } from '../../../core/dataset';
import { schemaProblems } from '../../../core/schemas';
import type { DatasetBuildConfig, DatasetRejection } from '../../../schemas/generated/types';
import { allFixtureDocuments, chinesePolicy, chinesePolicyNearCopy } from '../../fixtures/dataset/documents';

const store = new LocalArtifactStore(fs.mkdtempSync(path.join(os.tmpdir(), 'dataset-unit-')));
const inputs = allFixtureDocuments.map((d) => ({ input: d.source.path, value: d as unknown }));
const build = (overrides: Partial<DatasetBuildConfig> = {}, documents = inputs) => buildDatasetLocally(documents, { config: resolveBuildConfig(overrides), store });

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

describe('buildDatasetLocally (templates only)', () => {
  it('accounts for every generated sample: generated = accepted + rejected + failed', async () => {
    const { manifest, files } = await build();
    const { counts } = manifest;
    expect(counts.generated).toBe(counts.accepted + sum(counts.rejected_by_reason) + sum(counts.failed_by_error));
    const rejections = files.find((f) => f.file === 'rejections.jsonl')!.content.trim().split('\n');
    expect(rejections).toHaveLength(sum(counts.rejected_by_reason) + sum(counts.failed_by_error));
    expect(schemaProblems('DatasetManifest', manifest)).toEqual([]);
  });

  it('reports progress per chunk with an ETA', async () => {
    const notes: string[] = [];
    await buildDatasetLocally(inputs, { config: resolveBuildConfig({}), store, onProgress: (note) => notes.push(note) });
    const chunkNotes = notes.filter((n) => n.startsWith('chunk '));
    expect(chunkNotes.length).toBeGreaterThan(1);
    expect(chunkNotes.at(-1)).toMatch(/^chunk (\d+)\/\1, ETA ~0s$/);
  });

  it('removes the Chinese near-copy of a document as near-duplicates of the original', async () => {
    const { manifest, files } = await build();
    const rejections = files.find((f) => f.file === 'rejections.jsonl')!.content.trim().split('\n').map((l) => JSON.parse(l) as DatasetRejection);
    const copyChunks = new Set(rejections.filter((r) => r.chunk_id.startsWith(chinesePolicyNearCopy.source.sha256.slice(0, 12))).map((r) => r.reason));
    expect(copyChunks).toEqual(new Set(['near_duplicate']));
    expect(manifest.by_source[chinesePolicyNearCopy.source.sha256]).toBeUndefined();
    expect(manifest.by_source[chinesePolicy.source.sha256]).toBeGreaterThan(0);
    expect(manifest.by_language.zh).toBeGreaterThan(0);
  });

  it('keeps each document in one split and every row carries id, type, language, split, provenance', async () => {
    const { samples, manifest } = await build();
    const splitOf = new Map<string, string>();
    for (const s of samples) {
      expect(splitOf.get(s.provenance.source_sha256) ?? s.split).toBe(s.split);
      splitOf.set(s.provenance.source_sha256, s.split!);
      expect(schemaProblems('DatasetSample', s)).toEqual([]);
      if (s.task_type === 'classification') expect(s.labels!.length).toBeGreaterThan(1);
    }
    expect(new Set(Object.keys(manifest.by_task_type))).toEqual(new Set(['summary', 'classification', 'reasoning', 'rewrite', 'ranking']));
  });

  it('is deterministic: the same input and seed give the same version', async () => {
    expect((await build()).manifest.version).toBe((await build()).manifest.version);
  });

  it('skips an input that is not a DocumentModel, with the reason, and builds from the rest', async () => {
    const { manifest } = await build({}, [...inputs, { input: 'broken.json', value: { source: 'nope' } }]);
    expect(manifest.skipped_documents).toEqual([{ input: 'broken.json', reason: expect.stringContaining('not a DocumentModel') }]);
    expect(manifest.counts.accepted).toBeGreaterThan(0);
  });

  it('rejects with reasons: answers outside the length bounds', async () => {
    const { manifest } = await build({ max_chars: 60 });
    expect(manifest.counts.rejected_by_reason.too_long).toBeGreaterThan(0);
  });

  it('augments in rounds toward a target and stops when a round adds nothing', async () => {
    // Without the per-document cap, which would trim a few fixture documents back to an even split.
    const base = await build({ max_document_share: 1 });
    const grown = await build({ target_size: 1000, max_rounds: 5, max_document_share: 1 });
    expect(grown.manifest.counts.accepted).toBeGreaterThan(base.manifest.counts.accepted);
    expect(grown.manifest.rounds.length).toBeGreaterThan(1);
    expect(grown.manifest.rounds.length).toBeLessThanOrEqual(5);
    expect(grown.samples.some((s) => s.provenance.operator === 'focus' && s.provenance.round >= 1)).toBe(true);
    const { counts } = grown.manifest;
    expect(counts.generated).toBe(counts.accepted + sum(counts.rejected_by_reason) + sum(counts.failed_by_error));
    expect(counts.generated).toBe(grown.manifest.rounds.reduce((s, r) => s + r.generated, 0));
  });
});

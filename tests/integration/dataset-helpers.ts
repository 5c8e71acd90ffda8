/** Shared by the dataset integration tests: the parsed shared corpus and the fixture documents, stored as the ingest stage would. */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ArtifactRef } from '../../core/artifacts';
import { artifactStoreFromEnv } from '../../core/artifacts';
import { REPO_ROOT } from '../../core/config';
import { TypedError } from '../../core/errors';
import { parseDocument } from '../../core/parse';
import type { DatasetManifest, DatasetRejection, DatasetSample, DocumentModel, JudgeCriteria } from '../../schemas/generated/types';

export const SHARED_DIR = process.env.LLMLOOP_SHARED_DIR ?? path.join(REPO_ROOT, '..', 'shared');

/**
 * The corpus documents the parser reads, all or those named (`docx/<file>`), of the given formats.
 * The corpus's password-protected files are left out (the parse stage's tests cover them); any other
 * parse failure fails the test that asked, instead of silently shrinking its input.
 */
export async function parsedCorpus(only?: string[], formats: readonly string[] = ['docx', 'pptx', 'xlsx', 'pdf']): Promise<DocumentModel[]> {
  const documents: DocumentModel[] = [];
  for (const format of formats) {
    const dir = path.join(SHARED_DIR, 'corpus', 'inputs', format);
    for (const name of (await fs.readdir(dir)).sort()) {
      if (only && !only.includes(`${format}/${name}`)) continue;
      if (name.includes('400p')) continue; // the 400-page throughput file belongs to the parse benchmarks
      try {
        documents.push(await parseDocument(await fs.readFile(path.join(dir, name)), { path: `corpus/${format}/${name}` }));
      } catch (err) {
        if (!(err instanceof TypedError && err.type === 'EncryptedDocument')) throw err;
      }
    }
  }
  return documents;
}

export async function storeDocuments(documents: DocumentModel[]): Promise<ArtifactRef[]> {
  const store = artifactStoreFromEnv();
  return Promise.all(documents.map((d) => store.putJson(d, 'application/vnd.llmloop.document+json')));
}

/** The metadata every exported row carries (core/dataset/exports.ts). */
export interface ExportedRow {
  id: string;
  task_type: DatasetSample['task_type'];
  language: DatasetSample['language'];
  split: NonNullable<DatasetSample['split']>;
  labels: string[];
  source_sha256: string;
  provenance: { engine: 'template' | 'teacher'; generator: string; judge_score: number | null; judge_criteria: JudgeCriteria | null; round: number };
}

/** Every sample row of the TRL SFT and preference exports, read back from the store. */
export async function exportedRows(manifest: DatasetManifest): Promise<ExportedRow[]> {
  const store = artifactStoreFromEnv();
  const rows: ExportedRow[] = [];
  for (const e of manifest.exports.filter((x) => x.format === 'trl-sft' || x.format === 'trl-preference')) {
    const text = (await store.get(e.artifact)).toString('utf8').trim();
    if (text) rows.push(...text.split('\n').map((l) => JSON.parse(l) as ExportedRow));
  }
  return rows;
}

/** Every row of the rejections export, read back from the store. */
export async function rejectionRows(manifest: DatasetManifest): Promise<DatasetRejection[]> {
  const rejections = manifest.exports.find((e) => e.format === 'rejections')!;
  const text = (await artifactStoreFromEnv().get(rejections.artifact)).toString().trim();
  return text.split('\n').map((l) => JSON.parse(l) as DatasetRejection);
}

export function countsIdentityHolds(counts: DatasetManifest['counts']): boolean {
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  return counts.generated === counts.accepted + sum(counts.rejected_by_reason) + sum(counts.failed_by_error);
}

/**
 * evaluateFleet end to end on a real dev server: the shared corpus is parsed and turned into a
 * dataset, its tasks embedded with all-MiniLM-L6-v2, clustered, stored in sqlite-vec, and answered
 * by real SmolLM2-135M (base and a small random-init LoRA adapter) in the Python worker.
 * A third candidate that is not in the catalog must come out as explicitly missing cells.
 */
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { indexCommand } from '../../cli/commands/index';
import { artifactStoreFromEnv, type ArtifactRef } from '../../core/artifacts';
import { pythonExecutable, REPO_ROOT, TASK_QUEUE_CPU } from '../../core/config';
import { buildDatasetLocally, resolveBuildConfig } from '../../core/dataset';
import { parseDocument } from '../../core/parse';
import { schemaProblems } from '../../core/schemas';
import { collectionForModel, vectorStoreFromEnv } from '../../core/vectors';
import type { PerfIndex } from '../../schemas/generated/types';
import { evaluateFleet, evaluateFleetProgressQuery } from '../../workflows';
import { recordHistory } from '../helpers/histories';
import { startPythonWorker, testClient, testNodeWorker } from '../helpers/temporal';

jest.setTimeout(900_000);

const SHARED_DIR = process.env.LLMLOOP_SHARED_DIR ?? path.join(REPO_ROOT, '..', 'shared');

/** Every parseable corpus document of these formats, through the real parse and dataset stages. */
async function corpusDataset(): Promise<ArtifactRef> {
  const documents = [];
  for (const format of ['docx', 'pptx', 'pdf']) {
    const dir = path.join(SHARED_DIR, 'corpus', 'inputs', format);
    for (const name of (await fs.readdir(dir)).sort()) {
      if (name.includes('400p')) continue;
      try {
        documents.push({ input: `corpus/${format}/${name}`, value: await parseDocument(await fs.readFile(path.join(dir, name)), { path: `corpus/${format}/${name}` }) });
      } catch {
        // encrypted or otherwise unparseable: the parse stage's concern, not this one's
      }
    }
  }
  const built = await buildDatasetLocally(documents, { config: resolveBuildConfig(), store: artifactStoreFromEnv() });
  return built.manifestRef;
}

function makeAdapter(): ArtifactRef {
  const made = spawnSync(pythonExecutable(), ['-m', 'tests.python.lora_fixture'], { cwd: REPO_ROOT, env: { ...process.env, HF_HUB_OFFLINE: '1' }, encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`lora_fixture failed:\n${made.stderr}`);
  return JSON.parse(made.stdout.trim().split('\n').pop()!) as ArtifactRef;
}

describe('evaluateFleet', () => {
  let python: Awaited<ReturnType<typeof startPythonWorker>>;
  beforeAll(async () => {
    python = await startPythonWorker('cpu', { HF_HUB_OFFLINE: '1' });
  });
  afterAll(async () => {
    await python?.stop();
  });

  it('builds an index where every cluster x model cell is measured or missing with a reason', async () => {
    // The task vectors of earlier runs in this data dir (other tests') are not this run's to count.
    const stale = vectorStoreFromEnv();
    try {
      await stale.deleteCollection(collectionForModel('sentence-transformers/all-MiniLM-L6-v2'));
    } finally {
      await stale.close();
    }
    const dataset = await corpusDataset();
    const adapter = makeAdapter();
    const client = await testClient();
    const worker = await testNodeWorker();
    const handle = await client.workflow.start(evaluateFleet, {
      taskQueue: TASK_QUEUE_CPU,
      workflowId: `evaluate-fleet-${randomUUID()}`,
      args: [
        {
          dataset,
          candidates: [{ model_id: 'smollm2-135m' }, { model_id: 'smollm2-135m', adapter, name: 'smollm2-135m-lora' }, { model_id: 'not-in-catalog' }],
          clustering: { k_min: 2, k_max: 3, seed: 7, restarts: 2 },
          max_samples_per_cluster: 1,
          max_new_tokens: 6,
          bootstrap_resamples: 50,
          max_validation_samples: 2,
        },
      ],
    });
    // Queries need a running worker: ask for the final progress before the worker stops.
    const { result, progress } = await worker.runUntil(async () => ({ result: await handle.result(), progress: await handle.query(evaluateFleetProgressQuery) }));
    await recordHistory(handle, 'evaluate-fleet');

    const index = await artifactStoreFromEnv().getJson<PerfIndex>(result.perf_index);
    expect(schemaProblems('PerfIndex', index)).toEqual([]);
    expect(index.version).toBe(result.version);
    expect(index.embedding_model).toBe('sentence-transformers/all-MiniLM-L6-v2');
    expect(index.models.map((m) => m.model_id)).toEqual(['smollm2-135m', 'smollm2-135m-lora', 'not-in-catalog']);
    expect(index.models[1]!.adapter).toEqual(adapter);
    // Both SmolLM2 candidates answered the same validation samples; the adapter carries its gate verdict.
    expect(index.models.slice(0, 2).map((m) => m.validation_quality?.n)).toEqual([2, 2]);
    expect(index.models[1]!.champion_gate).toMatchObject({ passed: expect.any(Boolean), base_model_id: 'smollm2-135m' });

    const k = index.clusters.length;
    expect(k).toBeGreaterThanOrEqual(2);
    expect(index.clustering!.k).toBe(k);
    expect(index.clusters.every((c) => c.centroid.length === 384 && c.label.length > 0)).toBe(true);
    expect(index.clusters.reduce((s, c) => s + c.size, 0)).toBeGreaterThan(100);

    expect(index.cells).toHaveLength(k * 3);
    for (const cell of index.cells) {
      if (cell.missing) {
        expect(cell.missing.reason.length).toBeGreaterThan(0);
        expect(cell.n).toBe(0);
      } else {
        expect(cell.n).toBe(1);
        expect(cell.latency_ms_mean).toBeGreaterThan(0);
        expect(cell.cost_per_request).toBeGreaterThan(0);
        expect(cell.quality_ci!.ci_low).toBeLessThanOrEqual(cell.quality);
      }
    }
    const failed = index.cells.filter((c) => c.model_id === 'not-in-catalog');
    expect(failed.every((c) => c.missing?.reason.startsWith('UnknownModel'))).toBe(true);
    // Real generation: clusters with test samples are measured for both SmolLM2 candidates.
    const measured = index.cells.filter((c) => !c.missing);
    expect(new Set(measured.map((c) => c.model_id))).toEqual(new Set(['smollm2-135m', 'smollm2-135m-lora']));

    expect(progress).toMatchObject({ phase: 'done', models_total: 3, models_done: 3 });
    expect(progress.failed.map((f) => f.model_id)).toEqual(['not-in-catalog']);

    const vectors = vectorStoreFromEnv();
    try {
      const collection = collectionForModel(index.embedding_model);
      expect(await vectors.count(collection)).toBe(index.clusters.reduce((s, c) => s + c.size, 0));
      const [nearest] = await vectors.search(collection, { vector: index.clusters[0]!.centroid, limit: 1 });
      expect(nearest!.payload.cluster_id).toBe(0);
    } finally {
      await vectors.close();
    }

    const printed: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
    try {
      expect(await indexCommand.run(['show', '--latest'])).toBe(0);
    } finally {
      log.mockRestore();
    }
    expect(printed.join('\n')).toContain(index.version);
    expect(printed.join('\n')).toContain('missing: UnknownModel');
  });
});

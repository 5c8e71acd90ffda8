import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalArtifactStore } from '../../core/artifacts';
import { referencedArtifacts, StageCache } from '../../core/stage-cache';

describe('StageCache', () => {
  let root: string;
  let store: LocalArtifactStore;
  let cache: StageCache;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-stage-cache-'));
    store = new LocalArtifactStore(path.join(root, 'artifacts'));
    cache = new StageCache(store, path.join(root, 'stage-cache'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('returns the result recorded for the same inputs, whatever their key order', async () => {
    const dataset = await store.putJson({ rows: 3 });
    await cache.put({ stage: 'train', input: { a: 1, b: [dataset] } }, { adapter: dataset, steps: 4 });
    expect(await cache.get({ input: { b: [dataset], a: 1 }, stage: 'train' })).toEqual({ adapter: dataset, steps: 4 });
    expect(await cache.get({ stage: 'train', input: { a: 2, b: [dataset] } })).toBeNull();
  });

  it('misses when an artifact the result references has disappeared', async () => {
    const adapter = await store.put('weights', 'application/octet-stream');
    await cache.put({ stage: 'train' }, { adapter });
    fs.rmSync(store.blobPath(adapter.sha256));
    expect(await cache.get({ stage: 'train' })).toBeNull();
  });

  it('finds nested artifact refs', () => {
    const ref = { sha256: 'a'.repeat(64), bytes: 1, media_type: 'x' };
    expect(referencedArtifacts({ runs: [{ result: { adapter: ref } }, { error: 'x' }] })).toEqual([ref]);
  });
});

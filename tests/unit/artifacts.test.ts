import fs from 'node:fs';
import fsPromises from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ArtifactCorrupt, ArtifactNotFound, canonicalJson, LocalArtifactStore, sha256Hex } from '../../core/artifacts';
import { BoundedBlobCache } from '../../core/artifacts-cache';
import { artifactStoreLocation } from '../../core/config';

describe('LocalArtifactStore', () => {
  let root: string;
  let store: LocalArtifactStore;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-artifacts-'));
    store = new LocalArtifactStore(root);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('addresses content by sha256 and stores it once', async () => {
    const ref = await store.put('hello', 'text/plain');
    expect(ref).toEqual({ sha256: sha256Hex('hello'), bytes: 5, media_type: 'text/plain' });
    expect((await store.get(ref)).toString()).toBe('hello');
    expect(await store.put('hello', 'text/plain')).toEqual(ref);
    expect(fs.readdirSync(path.dirname(store.blobPath(ref.sha256)))).toEqual([ref.sha256]);
  });

  it('hashes JSON canonically so key order does not change the address', async () => {
    const a = await store.putJson({ b: 1, a: { d: [1, 2], c: '中文' } });
    const b = await store.putJson({ a: { c: '中文', d: [1, 2] }, b: 1 });
    expect(a.sha256).toBe(b.sha256);
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });

  it('stores files by streaming and directories as trees', async () => {
    const src = path.join(root, 'src');
    fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(src, 'a.txt'), 'A');
    fs.writeFileSync(path.join(src, 'sub', 'b.bin'), Buffer.from([0, 1, 2]));
    const tree = await store.putTree(src);
    const out = path.join(root, 'out');
    await store.getTree(tree, out);
    expect(fs.readFileSync(path.join(out, 'a.txt'), 'utf8')).toBe('A');
    expect([...fs.readFileSync(path.join(out, 'sub', 'b.bin'))]).toEqual([0, 1, 2]);
    expect(await store.putTree(src)).toEqual(tree);
  });

  it('fails with ArtifactNotFound for unknown content and rejects malformed digests', async () => {
    await expect(store.get({ sha256: 'a'.repeat(64) })).rejects.toBeInstanceOf(ArtifactNotFound);
    // Typed and non-retryable in every activity that reads the store, not only where one converts it.
    await expect(store.get({ sha256: 'a'.repeat(64) })).rejects.toMatchObject({ type: 'ArtifactNotFound', nonRetryable: true });
    expect(() => store.blobPath('../../etc/passwd')).toThrow(/not a sha256/);
  });

  it('refuses tree entries that escape the destination', async () => {
    const bad = await store.putJson({ kind: 'llmloop.tree/v1', files: [{ path: '../escape', sha256: (await store.put('x', 'text/plain')).sha256, bytes: 1 }] });
    await expect(store.getTree(bad, path.join(root, 'dest'))).rejects.toThrow(/escapes/);
    expect(fs.existsSync(path.join(root, 'escape'))).toBe(false);
  });

  it('leaves no temp files behind', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.put(`same-${i % 3}`, 'text/plain')));
    const all = fs.readdirSync(root, { recursive: true }) as string[];
    expect(all.filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('refuses a changed stored byte with ArtifactCorrupt, and a new put repairs the store', async () => {
    const ref = await store.put('trusted', 'text/plain');
    const tree = await store.putJson({ kind: 'llmloop.tree/v1', files: [{ path: 't.txt', sha256: ref.sha256, bytes: ref.bytes }] });
    const blob = store.blobPath(ref.sha256);
    for (const read of [() => store.getTree(tree, path.join(root, 'out')), () => store.get(ref)]) {
      fs.writeFileSync(blob, 'Trusted');
      await expect(read()).rejects.toBeInstanceOf(ArtifactCorrupt);
    }
    fs.writeFileSync(blob, 'Trusted');
    await expect(store.get(ref)).rejects.toMatchObject({ type: 'ArtifactCorrupt', nonRetryable: true });
    expect(fs.existsSync(path.join(root, 'out', 't.txt'))).toBe(false);
    expect(fs.readdirSync(path.dirname(blob)).some((name) => name.startsWith(`${ref.sha256}.corrupt-`))).toBe(true); // kept for inspection
    await store.put('trusted', 'text/plain');
    expect((await store.get(ref)).toString()).toBe('trusted');
  });

  it('fsyncs the temp file before the rename, then its folder and each folder it created', async () => {
    const synced: string[] = [];
    const realOpen = fsPromises.open;
    const spy = jest.spyOn(fsPromises, 'open').mockImplementation(async (...args: Parameters<typeof fsPromises.open>) => {
      const handle = await realOpen(...args);
      const realSync = handle.sync.bind(handle);
      handle.sync = async () => (synced.push(String(args[0])), realSync());
      return handle;
    });
    try {
      const ref = await store.put('durable', 'text/plain');
      const blob = store.blobPath(ref.sha256);
      expect(path.basename(synced[0]!)).toMatch(new RegExp(`^${ref.sha256}\\.tmp-`));
      expect(synced.slice(1)).toEqual([path.dirname(blob), path.dirname(path.dirname(blob)), root]);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('BoundedBlobCache', () => {
  it('evicts the least recently used blobs once past its limit', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-cache-'));
    const cache = new BoundedBlobCache(dir, 1000);
    const blobs = [0, 1, 2, 3].map((i) => Buffer.alloc(300, i));
    const shas = blobs.map((b) => sha256Hex(b));
    const mismatch = (actual: string) => new Error(actual);
    for (const i of [0, 1, 2]) await cache.fill(shas[i]!, 300, Readable.from([blobs[i]!]), mismatch);
    const local = new LocalArtifactStore(dir);
    shas.slice(0, 3).forEach((sha, age) => fs.utimesSync(local.blobPath(sha), 1000 + age, 1000 + age));
    expect((await cache.read(shas[0]!))?.equals(blobs[0]!)).toBe(true); // a hit makes the oldest the most recent
    await cache.fill(shas[3]!, 300, Readable.from([blobs[3]!]), mismatch); // 1200 bytes > 1000: evict down to 800
    expect(await Promise.all(shas.map(async (sha) => (await cache.read(sha)) !== undefined))).toEqual([true, false, false, true]);
    expect(cache.fits(801)).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('artifactStoreLocation', () => {
  it('reads s3://bucket/prefix with the standard AWS variables, and a folder otherwise', () => {
    expect(artifactStoreLocation({ LLMLOOP_ARTIFACTS: 's3://bucket//a/b/', LLMLOOP_DATA_DIR: '/d', AWS_ENDPOINT_URL: 'http://minio:9000' })).toMatchObject({
      kind: 's3',
      bucket: 'bucket',
      prefix: 'a/b',
      endpoint: 'http://minio:9000',
      region: 'us-east-1',
      cacheDir: '/d/artifact-cache',
    });
    expect(artifactStoreLocation({ LLMLOOP_DATA_DIR: '/d' })).toEqual({ kind: 'local', root: '/d/artifacts' });
    expect(() => artifactStoreLocation({ LLMLOOP_ARTIFACTS: 's3://bucket', LLMLOOP_ARTIFACT_PART_BYTES: '1024' })).toThrow(/at least/);
    expect(() => artifactStoreLocation({ LLMLOOP_ARTIFACTS: 'gs://bucket' })).toThrow(/unsupported/);
  });
});

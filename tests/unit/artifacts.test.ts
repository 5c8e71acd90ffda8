import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArtifactNotFound, canonicalJson, LocalArtifactStore, sha256Hex } from '../../core/artifacts';

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
});

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ArtifactCorrupt, ArtifactNotFound, artifactStoreAt, LocalArtifactStore, sha256Hex, type ArtifactStore } from '../../core/artifacts';
import { S3ArtifactStore } from '../../core/artifacts-s3';
import { artifactStoreLocation, pythonExecutable, REPO_ROOT } from '../../core/config';

/** An S3 API server (tests/helpers/s3-server.mjs, npm s3rver) in its own process, so a test can kill it. */
async function startS3Server(dir: string, { port = 0, exitAfterParts }: { port?: number; exitAfterParts?: number } = {}): Promise<{ endpoint: string; port: number; process: ChildProcess }> {
  const args = ['tests/helpers/s3-server.mjs', '--dir', dir, '--bucket', BUCKET, '--port', String(port)];
  if (exitAfterParts !== undefined) args.push('--exit-after-parts', String(exitAfterParts));
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next().then((r) => [r.value as string]);
  const { endpoint } = JSON.parse(line!) as { endpoint: string };
  return { endpoint, port: Number(new URL(endpoint).port), process: child };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

const BUCKET = 'llmloop-test';
const PART = 5 * 1024 * 1024;

describe('S3ArtifactStore against a real S3 API (s3rver)', () => {
  let work: string;
  let server: Awaited<ReturnType<typeof startS3Server>>;
  const savedEnv = { ...process.env };

  /** The environment a deployment sets: LLMLOOP_ARTIFACTS plus the standard AWS variables. */
  function s3Env(endpoint: string, dataDir: string): NodeJS.ProcessEnv {
    return {
      ...savedEnv,
      LLMLOOP_ARTIFACTS: `s3://${BUCKET}/team/artifacts`,
      LLMLOOP_DATA_DIR: dataDir,
      LLMLOOP_ARTIFACT_PART_BYTES: String(PART),
      LLMLOOP_ARTIFACT_CACHE_BYTES: String(64 * 1024 * 1024),
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
    };
  }

  /** A store with its own empty cache, so reads go to the server. */
  function freshStore(endpoint = server.endpoint): ArtifactStore {
    const env = s3Env(endpoint, fs.mkdtempSync(path.join(work, 'data-')));
    Object.assign(process.env, env); // credentials come from the SDK's default chain
    return artifactStoreAt(artifactStoreLocation(env));
  }

  function objectFile(store: ArtifactStore, sha256: string): string {
    return path.join(work, 's3', BUCKET, `${(store as S3ArtifactStore).objectKey(sha256)}._S3rver_object`);
  }

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-s3-'));
    server = await startS3Server(path.join(work, 's3'));
  });
  afterAll(async () => {
    await stop(server.process);
    process.env = savedEnv;
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('keeps the local store layout under the prefix and round-trips blobs, JSON and trees', async () => {
    const store = freshStore();
    expect(store).toBeInstanceOf(S3ArtifactStore);
    const ref = await store.putJson({ b: 1, a: 'x' });
    const local = new LocalArtifactStore(path.join(work, 'local'));
    expect((store as S3ArtifactStore).objectKey(ref.sha256)).toBe(`team/artifacts/${path.relative(local.root, local.blobPath(ref.sha256)).split(path.sep).join('/')}`);
    expect(await store.getJson(ref)).toEqual({ a: 'x', b: 1 });
    expect(await freshStore().has(ref)).toBe(true);

    const src = path.join(work, 'tree-src');
    fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(src, 'a.txt'), 'A');
    fs.writeFileSync(path.join(src, 'sub', 'b.bin'), Buffer.from([0, 1, 2]));
    const tree = await store.putTree(src);
    expect(tree).toEqual(await local.putTree(src)); // the same manifest, so the same address
    const out = path.join(work, 'tree-out');
    await freshStore().getTree(tree, out);
    expect(fs.readFileSync(path.join(out, 'a.txt'), 'utf8')).toBe('A');
    expect([...fs.readFileSync(path.join(out, 'sub', 'b.bin'))]).toEqual([0, 1, 2]);
  });

  it('reads what the Python store wrote and Python reads what it wrote', async () => {
    const store = freshStore();
    const fromNode = await store.put('written by node', 'text/plain');
    const script = `
import json, sys
from trainers.artifacts import artifact_store_from_env
store = artifact_store_from_env()
ref = json.loads(sys.argv[1])
print(json.dumps({"read": store.get(ref).decode(), "wrote": store.put_json({"by": "python", "saw": ref["sha256"]})}))
`;
    const run = spawnSync(pythonExecutable(), ['-c', script, JSON.stringify(fromNode)], { cwd: REPO_ROOT, env: s3Env(server.endpoint, fs.mkdtempSync(path.join(work, 'py-'))), encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const { read, wrote } = JSON.parse(run.stdout) as { read: string; wrote: { sha256: string } };
    expect(read).toBe('written by node');
    expect(await freshStore().getJson(wrote)).toEqual({ by: 'python', saw: fromNode.sha256 });
  });

  it('uploads a large file in parts, verifies it on the way back and caches it', async () => {
    const file = path.join(work, 'big.bin');
    const bytes = randomBytes(12 * 1024 * 1024);
    fs.writeFileSync(file, bytes);
    const store = freshStore() as S3ArtifactStore;
    const commands: string[] = [];
    store.options.client.middlewareStack.add((next, context) => (args) => (commands.push(context.commandName!), next(args)), { step: 'initialize' });
    const ref = await store.putFile(file, 'application/octet-stream');
    expect(ref).toMatchObject({ sha256: sha256Hex(bytes), bytes: bytes.byteLength });
    expect(commands.filter((c) => c !== 'HeadObjectCommand')).toEqual(['CreateMultipartUploadCommand', 'UploadPartCommand', 'UploadPartCommand', 'UploadPartCommand', 'CompleteMultipartUploadCommand']);

    const reader = freshStore();
    expect((await reader.get(ref)).equals(bytes)).toBe(true);
    fs.rmSync(objectFile(store, ref.sha256)); // the second read is served from the local cache
    expect((await reader.get(ref)).equals(bytes)).toBe(true);
  });

  it('reports a missing key as ArtifactNotFound, for blobs and tree entries', async () => {
    const store = freshStore();
    await expect(store.get({ sha256: sha256Hex('never stored') })).rejects.toMatchObject({ type: 'ArtifactNotFound', nonRetryable: true });
    const file = await store.put('file of a tree', 'application/octet-stream');
    const tree = await store.putJson({ kind: 'llmloop.tree/v1', files: [{ path: 'gone.bin', sha256: file.sha256, bytes: file.bytes }] });
    fs.rmSync(objectFile(store, file.sha256));
    await expect(freshStore().getTree(tree, path.join(work, 'gone'))).rejects.toBeInstanceOf(ArtifactNotFound);
  });

  it('refuses a stored byte changed on the server with ArtifactCorrupt, and refetches a corrupt cache entry', async () => {
    const store = freshStore();
    const ref = await store.put('trusted content', 'text/plain');
    const cached = freshStore();
    const cacheDir = path.join(process.env.LLMLOOP_DATA_DIR!, 'artifact-cache');
    await cached.get(ref);
    const cacheFile = path.join(cacheDir, 'sha256', ref.sha256.slice(0, 2), ref.sha256);
    fs.writeFileSync(cacheFile, 'tampered cache');
    expect((await cached.get(ref)).toString()).toBe('trusted content');

    const stored = objectFile(store, ref.sha256);
    const tampered = fs.readFileSync(stored);
    tampered[0]! ^= 0xff;
    fs.writeFileSync(stored, tampered);
    await expect(freshStore().get(ref)).rejects.toMatchObject({ type: 'ArtifactCorrupt', nonRetryable: true });
    const tree = await store.putJson({ kind: 'llmloop.tree/v1', files: [{ path: 'x.txt', sha256: ref.sha256, bytes: ref.bytes }] });
    await expect(freshStore().getTree(tree, path.join(work, 'corrupt-tree'))).rejects.toBeInstanceOf(ArtifactCorrupt);
    expect(fs.existsSync(path.join(work, 'corrupt-tree', 'x.txt'))).toBe(false);
  });

  it('never shows an upload whose bytes no longer hash to their key (a file changed while stored)', async () => {
    const store = freshStore() as S3ArtifactStore;
    const file = path.join(work, 'changed.bin');
    fs.writeFileSync(file, randomBytes(11 * 1024 * 1024));
    const stale = { sha256: sha256Hex('what the file held when it was hashed'), bytes: 11 * 1024 * 1024, media_type: 'x' };
    const writeBlobFromFile = (store as unknown as { writeBlobFromFile(ref: typeof stale, file: string): Promise<void> }).writeBlobFromFile.bind(store);
    await expect(writeBlobFromFile(stale, file)).rejects.toThrow(/changed while it was stored/);
    expect(await store.has(stale)).toBe(false);
  });

  it('fails an upload retryably when the server goes away mid-upload, shows no object, and the retry completes', async () => {
    const dir = path.join(work, 's3-flaky');
    const flaky = await startS3Server(dir, { exitAfterParts: 1 });
    const file = path.join(work, 'flaky.bin');
    const bytes = randomBytes(12 * 1024 * 1024);
    fs.writeFileSync(file, bytes);
    const store = freshStore(flaky.endpoint);
    try {
      const failure = await store.putFile(file, 'application/octet-stream').then(() => undefined, (err: unknown) => err as { nonRetryable?: boolean });
      expect(failure).toBeDefined();
      expect(failure!.nonRetryable).not.toBe(true);
      expect(flaky.process.exitCode).toBe(3); // it died on the second part, as told

      const restarted = await startS3Server(dir, { port: flaky.port });
      try {
        const ref = { sha256: sha256Hex(bytes) };
        expect(await store.has(ref)).toBe(false); // never half-visible
        await expect(store.putFile(file, 'application/octet-stream')).resolves.toMatchObject(ref); // the activity's retry
        expect((await freshStore(flaky.endpoint).get(ref)).equals(bytes)).toBe(true);
      } finally {
        await stop(restarted.process);
      }
    } finally {
      await stop(flaky.process);
    }
  });
});

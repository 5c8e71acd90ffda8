/**
 * Prompt embeddings for offline evaluation through the embedding stage's batch CLI
 * (`python -m trainers.embedding embed`), cached per text by content hash so re-runs and
 * subsamples of the same data embed nothing twice.
 *   <cacheDir>/<model name>/model.json          {model_id, dim} of the vectors below
 *   <cacheDir>/<model name>/<aa>/<sha256>.f32   one little-endian float32 vector
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sha256Hex } from '../artifacts';
import { pythonExecutable, REPO_ROOT } from '../config';
import { writeFileAtomically } from '../atomic-file';

const run = promisify(execFile);

export interface EmbeddedTexts {
  vectors: Float32Array[];
  modelId: string;
  /** Texts that were not in the cache and went through the model. */
  embedded: number;
}

export interface EmbedOptions {
  cacheDir: string;
  /** Embedding model name as `trainers.embedding` knows it (default: its default). */
  model?: string;
  /** Texts per embedding process (default 1000). */
  chunkSize?: number;
}

const DEFAULT_CHUNK_SIZE = 1000;

interface CacheInfo {
  model_id: string;
  dim: number;
}

export async function embedTextsCached(texts: readonly string[], options: EmbedOptions): Promise<EmbeddedTexts> {
  const dir = path.join(options.cacheDir, options.model ?? 'default');
  const info = await readCacheInfo(dir);
  const keys = texts.map((t) => sha256Hex(t));
  const vectors: (Float32Array | undefined)[] = info ? await Promise.all(keys.map((k) => readVector(dir, k, info.dim))) : texts.map(() => undefined);
  const missing = [...new Set(keys.filter((_, i) => !vectors[i]))];
  if (missing.length === 0) return { vectors: vectors as Float32Array[], modelId: info!.model_id, embedded: 0 };

  const textByKey = new Map(keys.map((k, i) => [k, texts[i]!]));
  const freshByKey = new Map<string, Float32Array>();
  let modelId = info?.model_id;
  // In chunks, each cached as soon as it is done: an interrupted long run keeps what it embedded.
  for (let start = 0; start < missing.length; start += options.chunkSize ?? DEFAULT_CHUNK_SIZE) {
    const chunk = missing.slice(start, start + (options.chunkSize ?? DEFAULT_CHUNK_SIZE));
    const fresh = await embedWithCli(
      chunk.map((k) => textByKey.get(k)!),
      options.model,
    );
    if (info && (info.model_id !== fresh.modelId || info.dim !== fresh.dim)) {
      // The name now means another model: every cached vector is from the wrong space.
      await fs.rm(dir, { recursive: true, force: true });
      return embedTextsCached(texts, options);
    }
    await fs.mkdir(dir, { recursive: true });
    if (!modelId) await fs.writeFile(path.join(dir, 'model.json'), JSON.stringify({ model_id: fresh.modelId, dim: fresh.dim }));
    modelId = fresh.modelId;
    chunk.forEach((k, i) => freshByKey.set(k, fresh.vectors[i]!));
    await Promise.all(chunk.map((k, i) => writeVector(dir, k, fresh.vectors[i]!)));
  }
  return { vectors: keys.map((k, i) => vectors[i] ?? freshByKey.get(k)!), modelId: modelId!, embedded: missing.length };
}

async function readCacheInfo(dir: string): Promise<CacheInfo | null> {
  try {
    return JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8')) as CacheInfo;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

const vectorPath = (dir: string, key: string) => path.join(dir, key.slice(0, 2), `${key}.f32`);

async function readVector(dir: string, key: string, dim: number): Promise<Float32Array | undefined> {
  try {
    const bytes = await fs.readFile(vectorPath(dir, key));
    return bytes.byteLength === dim * 4 ? new Float32Array(bytes.buffer, bytes.byteOffset, dim).slice() : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function writeVector(dir: string, key: string, vector: Float32Array): Promise<void> {
  return writeFileAtomically(vectorPath(dir, key), new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength));
}

async function embedWithCli(texts: string[], model: string | undefined): Promise<{ vectors: Float32Array[]; modelId: string; dim: number }> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'llmloop-embed-'));
  try {
    const input = path.join(work, 'texts.jsonl');
    const output = path.join(work, 'vectors.f32');
    await fs.writeFile(input, texts.map((text) => JSON.stringify({ text })).join('\n') + '\n');
    const { stdout } = await run(pythonExecutable(), ['-m', 'trainers.embedding', 'embed', '--input', input, '--output', output, ...(model ? ['--model', model] : [])], {
      cwd: REPO_ROOT,
      env: { ...process.env, HF_HUB_OFFLINE: '1' },
      maxBuffer: 16 * 1024 * 1024,
    });
    const summary = JSON.parse(stdout.trim().split('\n').pop()!) as { n: number; dim: number; model_id: string };
    const bytes = await fs.readFile(output);
    if (summary.n !== texts.length || bytes.byteLength !== summary.n * summary.dim * 4) {
      throw new Error(`trainers.embedding returned ${summary.n} x ${summary.dim} vectors (${bytes.byteLength} bytes) for ${texts.length} texts`);
    }
    const all = new Float32Array(bytes.buffer, bytes.byteOffset, summary.n * summary.dim);
    return { vectors: texts.map((_, i) => all.slice(i * summary.dim, (i + 1) * summary.dim)), modelId: summary.model_id, dim: summary.dim };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

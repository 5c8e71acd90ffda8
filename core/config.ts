import path from 'node:path';
import { NODE_TASK_QUEUE } from '../schemas/generated/constants';

/** Queue names are written once, in schemas/constants.json. */
export { gpuTaskQueue } from '../schemas/generated/constants';

/** Repository root, resolved from this file whether it runs from source (jest) or from dist/. */
export const REPO_ROOT = (() => {
  const here = __dirname;
  const parts = here.split(path.sep);
  const distIndex = parts.lastIndexOf('dist');
  return distIndex >= 0 ? parts.slice(0, distIndex).join(path.sep) : path.resolve(here, '..');
})();

export const TASK_QUEUE_CPU = NODE_TASK_QUEUE;

export interface LlmloopConfig {
  /** host:port of the Temporal frontend; when set, nothing local is started. */
  temporalAddress: string | undefined;
  temporalNamespace: string;
  /** Root of local state: artifacts, caches, dev-server database. */
  dataDir: string;
  /** GPU class this host's Python worker serves (`cpu` without a GPU). */
  gpuClass: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): LlmloopConfig {
  return {
    temporalAddress: env.TEMPORAL_ADDRESS || undefined,
    temporalNamespace: env.TEMPORAL_NAMESPACE || 'default',
    dataDir: path.resolve(env.LLMLOOP_DATA_DIR || path.join(REPO_ROOT, '.data')),
    gpuClass: env.LLMLOOP_GPU_CLASS || 'cpu',
  };
}

export function pythonExecutable(): string {
  return process.env.LLMLOOP_PYTHON || path.join(REPO_ROOT, '.venv', 'bin', 'python');
}

export function temporalExecutable(): string {
  return process.env.LLMLOOP_TEMPORAL_CLI || path.join(REPO_ROOT, '.venv', 'bin', 'temporal');
}

/** Where artifacts live: LLMLOOP_ARTIFACTS, a folder (default `<dataDir>/artifacts`) or `s3://bucket/prefix`. */
export type ArtifactStoreLocation =
  | { kind: 'local'; root: string }
  | {
      kind: 's3';
      bucket: string;
      /** Key prefix without slashes at either end; '' for the bucket root. */
      prefix: string;
      /** AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL: MinIO or another S3 API; unset for AWS itself. */
      endpoint: string | undefined;
      region: string;
      /** Bounded read-through cache of downloaded blobs (LLMLOOP_ARTIFACT_CACHE_BYTES, default 10 GiB). */
      cacheDir: string;
      cacheMaxBytes: number;
      /** Multipart part size (LLMLOOP_ARTIFACT_PART_BYTES, default 64 MiB, at least S3's 5 MiB). */
      partSizeBytes: number;
    };

const MIB = 1024 * 1024;
const S3_MIN_PART_BYTES = 5 * MIB;

export function artifactStoreLocation(env: NodeJS.ProcessEnv = process.env): ArtifactStoreLocation {
  const { dataDir } = loadConfig(env);
  const where = env.LLMLOOP_ARTIFACTS || path.join(dataDir, 'artifacts');
  if (!where.startsWith('s3://')) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(where)) throw new Error(`LLMLOOP_ARTIFACTS: unsupported store ${where} (a folder or s3://bucket/prefix)`);
    return { kind: 'local', root: path.resolve(where) };
  }
  const [bucket = '', ...prefix] = where.slice('s3://'.length).split('/');
  if (!bucket) throw new Error(`LLMLOOP_ARTIFACTS: no bucket in ${where}`);
  const partSizeBytes = byteCount(env, 'LLMLOOP_ARTIFACT_PART_BYTES', 64 * MIB);
  if (partSizeBytes < S3_MIN_PART_BYTES) throw new Error(`LLMLOOP_ARTIFACT_PART_BYTES: S3 parts are at least ${S3_MIN_PART_BYTES} bytes`);
  return {
    kind: 's3',
    bucket,
    prefix: prefix.filter(Boolean).join('/'),
    endpoint: env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    cacheDir: path.join(dataDir, 'artifact-cache'),
    cacheMaxBytes: byteCount(env, 'LLMLOOP_ARTIFACT_CACHE_BYTES', 10 * 1024 * MIB),
    partSizeBytes,
  };
}

function byteCount(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name}: expected a byte count, got ${raw}`);
  return value;
}

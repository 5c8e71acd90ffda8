import { heartbeat } from '@temporalio/activity';
import fs from 'node:fs/promises';
import path from 'node:path';
import { LocalArtifactStore, sha256Hex } from '../core/artifacts';
import { loadConfig } from '../core/config';
import { TypedError } from '../core/errors';
import { parseDocument, toMarkdown } from '../core/parse';
import { limitExceeded, resolveLimits } from '../core/parse/limits';
import { validate } from '../core/schemas';
import type { IngestSource, ParseDocumentRequest, ParsedDocumentSummary } from '../schemas/generated/types';
import { typedActivity } from './failures';
import { writeFileAtomically } from '../core/atomic-file';

export const DOCUMENT_MEDIA_TYPE = 'application/vnd.llmloop.document+json';
/** Bump when parser output changes, so content parsed by an older parser is parsed again. */
export const PARSER_VERSION = 'parse/3';

/**
 * Parses one source into a stored DocumentModel and returns only refs and counts, never the model.
 * Idempotent: content (sha256) already parsed by this parser version returns its stored model.
 */
export async function parseDocumentActivity(request: ParseDocumentRequest): Promise<ParsedDocumentSummary> {
  return typedActivity(async () => {
    const { source, password, limits } = validate('ParseDocumentRequest', request);
    const store = LocalArtifactStore.fromEnv();
    const bytes = await readSource(source, store, resolveLimits(limits).max_bytes);
    const sourceSha = sha256Hex(bytes);
    const index = new ParseIndex(path.join(loadConfig().dataDir, 'parse-index'));
    const known = await index.get(sourceSha, store);
    if (known) return { ...known, reused: true };

    heartbeat({ phase: 'parsing' });
    const model = await parseDocument(bytes, {
      path: source.path ?? source.name ?? `artifact:${source.artifact!.sha256}`,
      ...(password !== undefined ? { password } : {}),
      ...(limits ? { limits } : {}),
      onProgress: (done, total) => heartbeat({ phase: 'parsing', done, total }),
    });
    const summary = validate('ParsedDocumentSummary', {
      source_sha256: sourceSha,
      format: model.source.format,
      document: await store.putJson(validate('DocumentModel', model), DOCUMENT_MEDIA_TYPE),
      markdown: await store.put(toMarkdown(model), 'text/markdown'),
      units: model.units.length,
      blocks: model.blocks.length,
      warnings: model.warnings.map((w) => w.code),
      reused: false,
    });
    await index.put(sourceSha, summary);
    return summary;
  });
}

async function readSource(source: IngestSource, store: LocalArtifactStore, maxBytes: number): Promise<Uint8Array> {
  if ((source.path === undefined) === (source.artifact === undefined)) {
    throw new TypedError('InvalidRequest', 'a source names exactly one of path or artifact');
  }
  if (source.artifact) {
    if (source.artifact.bytes > maxBytes) throw limitExceeded('max_bytes', maxBytes, `artifact has ${source.artifact.bytes} bytes`);
    return store.get(source.artifact);
  }
  const stat = await fs.stat(source.path!).catch((err: NodeJS.ErrnoException) => {
    // A missing file will not appear by retrying; other I/O errors may be transient and retry.
    throw err.code === 'ENOENT' ? new TypedError('InvalidRequest', `no such file: ${source.path}`) : err;
  });
  if (!stat.isFile()) throw new TypedError('InvalidRequest', `not a regular file: ${source.path}`);
  if (stat.size > maxBytes) throw limitExceeded('max_bytes', maxBytes, `file has ${stat.size} bytes`);
  return fs.readFile(source.path!);
}

/**
 * sha256 of the source bytes -> summary of its parse, one small JSON file per content. Written
 * after the artifacts, by rename, so a reader never sees an entry whose artifacts are missing.
 */
class ParseIndex {
  constructor(private readonly dir: string) {}

  private file(sourceSha: string): string {
    return path.join(this.dir, PARSER_VERSION.replace('/', '-'), `${sourceSha}.json`);
  }

  async get(sourceSha: string, store: LocalArtifactStore): Promise<ParsedDocumentSummary | undefined> {
    // No entry: not parsed yet. Any other read failure is I/O and retries, rather than parsing again.
    const text = await fs.readFile(this.file(sourceSha), 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
    if (!text) return undefined;
    const summary = JSON.parse(text) as ParsedDocumentSummary;
    return (await store.has(summary.document)) && (await store.has(summary.markdown)) ? summary : undefined;
  }

  async put(sourceSha: string, summary: ParsedDocumentSummary): Promise<void> {
    await writeFileAtomically(this.file(sourceSha), JSON.stringify(summary));
  }
}


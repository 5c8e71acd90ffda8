/** Builds a LifecycleInput from documents on the command line and a JSON config file. */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../core/config';
import { TypedError } from '../core/errors';
import { validate } from '../core/schemas';
import type { IngestSource, LifecycleInput } from '../schemas/generated/types';
import { DOCUMENT_EXTENSIONS, findDocuments } from './documents';

export const DEFAULT_LIFECYCLE_CONFIG = path.join(REPO_ROOT, 'config', 'lifecycle.default.json');

/** Files as given; folders expand (recursively, sorted) to the documents they hold. */
export function documentSources(paths: string[]): IngestSource[] {
  return paths.flatMap((p) => findDocuments(p)).map((doc) => ({ path: doc.path }));
}

export function lifecycleInput(docs: string[], configFile = DEFAULT_LIFECYCLE_CONFIG): LifecycleInput {
  const sources = documentSources(docs);
  if (sources.length === 0) throw new TypedError('InvalidRequest', `no documents (${DOCUMENT_EXTENSIONS.join(' ')}) found in: ${docs.join(' ')}`);
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as Omit<LifecycleInput, 'sources'>;
  return validate('LifecycleInput', { ...config, sources });
}

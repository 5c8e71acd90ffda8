/** Builds a LifecycleInput from documents on the command line and a JSON config file. */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../core/config';
import { validate } from '../core/schemas';
import type { IngestSource, LifecycleInput } from '../schemas/generated/types';

export const DEFAULT_LIFECYCLE_CONFIG = path.join(REPO_ROOT, 'config', 'lifecycle.default.json');
const DOCUMENT_EXTENSIONS = new Set(['.pdf', '.docx', '.pptx', '.xlsx']);

/** Files as given; folders expand (recursively, sorted) to the documents they hold. */
export function documentSources(paths: string[]): IngestSource[] {
  const files: string[] = [];
  const walk = (p: string) => {
    const stat = fs.statSync(p);
    if (stat.isDirectory()) {
      for (const name of fs.readdirSync(p).sort()) {
        const child = path.join(p, name);
        if (fs.statSync(child).isDirectory() || DOCUMENT_EXTENSIONS.has(path.extname(name).toLowerCase())) walk(child);
      }
    } else files.push(path.resolve(p));
  };
  for (const p of paths) walk(p);
  return files.map((file) => ({ path: file }));
}

export function lifecycleInput(docs: string[], configFile = DEFAULT_LIFECYCLE_CONFIG): LifecycleInput {
  const sources = documentSources(docs);
  if (sources.length === 0) throw new Error(`no documents (.pdf .docx .pptx .xlsx) found in: ${docs.join(' ')}`);
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as Omit<LifecycleInput, 'sources'>;
  return validate('LifecycleInput', { ...config, sources });
}

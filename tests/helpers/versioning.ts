/** The patch table of docs/lifecycle.md ("Workflow versioning"), read by the versioning tests. */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../core/config';

export interface DocumentedPatch {
  id: string;
  /** The workflow type that calls patched()/deprecatePatch() with it. */
  workflow: string;
  state: 'patched' | 'deprecated';
}

export function documentedPatches(): DocumentedPatch[] {
  const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'lifecycle.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### Workflow versioning'));
  return [...section.matchAll(/^\| `([^`]+)` \| (\w+) \| [^|]+ \| (patched|deprecated) \|$/gm)].map((m) => ({ id: m[1]!, workflow: m[2]!, state: m[3] as DocumentedPatch['state'] }));
}

/** docs/lifecycle.md, "Workflow versioning": the table of patch ids and the code agree. */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../core/config';
import { documentedPatches } from '../helpers/versioning';

const WORKFLOWS = path.join(REPO_ROOT, 'workflows');

/** Patch ids used in workflows/, by call: `patched(X)` / `deprecatePatch(X)` with X a string literal or a constant of the same file. */
function patchesInCode(): { id: string; call: 'patched' | 'deprecatePatch'; file: string }[] {
  const found = [];
  for (const file of fs.readdirSync(WORKFLOWS).filter((f) => f.endsWith('.ts'))) {
    const source = fs.readFileSync(path.join(WORKFLOWS, file), 'utf8');
    const constants = new Map([...source.matchAll(/const (\w+) = '([^']+)'/g)].map((m) => [m[1]!, m[2]!]));
    for (const m of source.matchAll(/\b(patched|deprecatePatch)\((?:'([^']+)'|(\w+))\)/g)) {
      const id = m[2] ?? constants.get(m[3]!);
      if (!id) throw new Error(`${file}: ${m[0]} does not name its patch id with a literal or a constant of the file`);
      found.push({ id, call: m[1] as 'patched' | 'deprecatePatch', file });
    }
  }
  return found;
}

test('every patch in the workflows is documented with its state, and every documented patch is in the code', () => {
  const documented = new Map(documentedPatches().map((p) => [p.id, p]));
  const inCode = patchesInCode();
  expect(documented.size).toBeGreaterThan(0);
  for (const use of inCode) {
    expect({ id: use.id, documented: documented.has(use.id) }).toEqual({ id: use.id, documented: true });
    expect({ id: use.id, state: documented.get(use.id)!.state }).toEqual({ id: use.id, state: use.call === 'patched' ? 'patched' : 'deprecated' });
  }
  const used = new Set(inCode.map((p) => p.id));
  expect([...documented.keys()].filter((id) => !used.has(id))).toEqual([]);
});

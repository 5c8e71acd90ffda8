import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../core/config';
import { SchemaValidationError, schemaProblems, validate } from '../../core/schemas';

/** The folders the generator owns, in the repository and under a fresh `--out`. */
const GENERATED_DIRS = ['schemas/generated', 'trainers/generated'];

function generatedFiles(root: string): string[] {
  return GENERATED_DIRS.flatMap((dir) =>
    fs.existsSync(path.join(root, dir))
      ? fs
          .readdirSync(path.join(root, dir), { withFileTypes: true })
          .filter((entry) => entry.isFile() && !entry.name.endsWith('.pyc'))
          .map((entry) => `${dir}/${entry.name}`)
      : [],
  ).sort();
}

describe('schemas/ as the single source of truth', () => {
  // The generator runs compiled (prettier inside it needs real dynamic import, which jest's CJS runtime lacks).
  it('every generated contract (TypeScript and Python) equals a fresh generation from schemas/', () => {
    const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'gen-schemas-'));
    try {
      execFileSync(process.execPath, [path.join(REPO_ROOT, 'dist', 'scripts', 'gen-schemas.js'), '--out', fresh], { stdio: 'pipe' });
      const expected = generatedFiles(fresh);
      expect(expected).toEqual(expect.arrayContaining(['schemas/generated/constants.ts', 'trainers/generated/models.py', 'trainers/generated/constants.py']));
      expect(generatedFiles(REPO_ROOT)).toEqual(expected);
      const stale = expected.filter((file) => fs.readFileSync(path.join(REPO_ROOT, file), 'utf8') !== fs.readFileSync(path.join(fresh, file), 'utf8'));
      // Run `node dist/scripts/gen-schemas.js` and commit what it writes.
      expect(stale).toEqual([]);
    } finally {
      fs.rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('validates payloads and names the problem', () => {
    const ref = { sha256: 'a'.repeat(64), bytes: 3, media_type: 'text/plain' };
    expect(validate('ArtifactRef', ref)).toBe(ref);
    expect(schemaProblems('ArtifactRef', { ...ref, bytes: -1 })).toEqual(['/bytes must be >= 0']);
    expect(() => validate('ArtifactRef', { ...ref, extra: 1 })).toThrow(SchemaValidationError);
    expect(() => validate('ArtifactRef', { ...ref, extra: 1 })).toThrow(/must NOT have additional properties 'extra'/);
  });
});

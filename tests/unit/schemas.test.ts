import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../../core/config';
import { SchemaValidationError, schemaProblems, validate } from '../../core/schemas';

describe('schemas/ as the single source of truth', () => {
  // The generator runs compiled (prettier inside it needs real dynamic import, which jest's CJS runtime lacks).
  it('generated types and validators are up to date with schemas/*.schema.json', () => {
    expect(() => execFileSync(process.execPath, [path.join(REPO_ROOT, 'dist', 'scripts', 'gen-schemas.js'), '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('validates payloads and names the problem', () => {
    const ref = { sha256: 'a'.repeat(64), bytes: 3, media_type: 'text/plain' };
    expect(validate('ArtifactRef', ref)).toBe(ref);
    expect(schemaProblems('ArtifactRef', { ...ref, bytes: -1 })).toEqual(['/bytes must be >= 0']);
    expect(() => validate('ArtifactRef', { ...ref, extra: 1 })).toThrow(SchemaValidationError);
    expect(() => validate('ArtifactRef', { ...ref, extra: 1 })).toThrow(/must NOT have additional properties 'extra'/);
  });
});

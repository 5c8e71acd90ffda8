import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { REPO_ROOT } from '../../core/config';

/**
 * Workflow code runs in Temporal's deterministic sandbox: it may import the workflow SDK, other
 * workflow files and pure helpers, and only the *types* of activities. Checked here, transitively.
 */
const WORKFLOW_DIR = path.join(REPO_ROOT, 'workflows');
const ALLOWED_PACKAGES = ['@temporalio/workflow', '@temporalio/common'];
const ALLOWED_LOCAL_PREFIXES = ['workflows/', 'core/schemas', 'core/errors', 'schemas/generated/'];
/** What the generated validators require at run time: pure functions and regexes. */
const PURE_VALIDATOR_RUNTIME = ['ajv/dist/runtime/', 'ajv-formats/dist/formats'];
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

interface ImportStatement {
  specifier: string;
  typeOnly: boolean;
}

function importsOf(source: string): ImportStatement[] {
  const found: ImportStatement[] = [];
  const pattern = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/g;
  for (const match of source.matchAll(pattern)) found.push({ specifier: match[3]!, typeOnly: Boolean(match[2]) });
  for (const match of source.matchAll(/require\(\s*['"]([^'"]+)['"]\s*\)|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    found.push({ specifier: (match[1] ?? match[2])!, typeOnly: false });
  }
  return found;
}

function resolveLocal(fromFile: string, specifier: string): string {
  const base = path.resolve(path.dirname(fromFile), specifier);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')]) if (fs.existsSync(candidate)) return candidate;
  throw new Error(`cannot resolve ${specifier} from ${fromFile}`);
}

/** `source` stands in for the entry file's content (lets the test check the checker without writing files). */
function violations(entry: string, source?: string): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  const visit = (file: string, text = fs.readFileSync(file, 'utf8')) => {
    if (seen.has(file)) return;
    seen.add(file);
    const rel = path.relative(REPO_ROOT, file);
    for (const { specifier, typeOnly } of importsOf(text)) {
      if (typeOnly) continue;
      if (BUILTINS.has(specifier)) problems.push(`${rel} imports Node built-in ${specifier}`);
      else if (specifier.startsWith('.')) {
        const target = resolveLocal(file, specifier);
        const targetRel = path.relative(REPO_ROOT, target);
        if (!ALLOWED_LOCAL_PREFIXES.some((p) => targetRel.startsWith(p))) problems.push(`${rel} imports ${targetRel} at run time (only its types may be imported)`);
        else visit(target);
      } else if (!ALLOWED_PACKAGES.some((p) => specifier === p || specifier.startsWith(`${p}/`)) && !PURE_VALIDATOR_RUNTIME.some((p) => specifier.startsWith(p))) {
        problems.push(`${rel} imports package ${specifier}`);
      }
    }
  };
  visit(entry, source);
  return problems;
}

describe('workflow sandbox rules', () => {
  const files = fs.readdirSync(WORKFLOW_DIR).filter((f) => f.endsWith('.ts'));

  it.each(files)('workflows/%s imports no Node built-ins and only activity types', (file) => {
    expect(violations(path.join(WORKFLOW_DIR, file))).toEqual([]);
  });

  it('catches a forbidden import', () => {
    const probe = path.join(WORKFLOW_DIR, 'probe.ts');
    const source = "import fs from 'node:fs';\nimport { probeNodeWorker } from '../activities/health';\nimport type { X } from '../activities';\n";
    expect(violations(probe, source)).toEqual([
      'workflows/probe.ts imports Node built-in node:fs',
      'workflows/probe.ts imports activities/health.ts at run time (only its types may be imported)',
    ]);
  });
});

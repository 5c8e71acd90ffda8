import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const PARSE_DIR = path.join(__dirname, '../../../core/parse');

/** Every .ts module under core/parse, with the modules of core/parse it imports (type-only imports included). */
function importGraph(): Map<string, string[]> {
  const modules = fs.readdirSync(PARSE_DIR, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
  const graph = new Map<string, string[]>();
  for (const module of modules) {
    const source = fs.readFileSync(path.join(PARSE_DIR, module), 'utf8');
    const imported = ts
      .preProcessFile(source, true, true)
      .importedFiles.map((ref) => ref.fileName)
      .filter((name) => name.startsWith('.'))
      .map((name) => path.normalize(path.join(path.dirname(module), name)))
      .flatMap((target) => [`${target}.ts`, path.join(target, 'index.ts')].filter((file) => modules.includes(file)).slice(0, 1));
    graph.set(module, imported);
  }
  return graph;
}

/** One import circle if there is any: the modules along it, the first repeated at the end. */
function findCircle(graph: Map<string, string[]>): string[] | undefined {
  const done = new Set<string>();
  const visit = (module: string, trail: string[]): string[] | undefined => {
    const at = trail.indexOf(module);
    if (at >= 0) return [...trail.slice(at), module];
    if (done.has(module)) return undefined;
    for (const next of graph.get(module) ?? []) {
      const circle = visit(next, [...trail, module]);
      if (circle) return circle;
    }
    done.add(module);
    return undefined;
  };
  for (const module of graph.keys()) {
    const circle = visit(module, []);
    if (circle) return circle;
  }
  return undefined;
}

describe('core/parse imports', () => {
  it('form no circle: the PDF modules share their types through pdf/types.ts', () => {
    const graph = importGraph();
    expect(graph.get(path.join('pdf', 'booktabs.ts'))).toEqual([path.join('pdf', 'types.ts')]);
    expect(findCircle(graph)).toBeUndefined();
  });

  it('a circle is found when there is one', () => {
    const graph = new Map([
      ['pdf/layout.ts', ['pdf/tables.ts']],
      ['pdf/tables.ts', ['pdf/booktabs.ts']],
      ['pdf/booktabs.ts', ['pdf/layout.ts']],
    ]);
    expect(findCircle(graph)).toEqual(['pdf/layout.ts', 'pdf/tables.ts', 'pdf/booktabs.ts', 'pdf/layout.ts']);
  });
});

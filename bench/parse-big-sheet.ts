/**
 * A workbook far past the cell budget (issue 15: a 2-million-cell export) and one exactly at it,
 * each through `llmloop parse` in a process of its own under /usr/bin/time -v: wall clock, peak
 * RSS, the outcome, and what is left in --out. Targets: under 60 s and 1.5 GB each, a typed
 * LimitExceeded and an empty --out past the budget. The baseline, measured in the same run, is
 * inflating the same package with fflate alone (the least any parse must do).
 *   node dist/bench/parse-big-sheet.js [--cells N] [--cols N]
 * Workbooks are generated into a temporary folder and removed afterwards.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { REPO_ROOT } from '../core/config';
import { DEFAULT_LIMITS } from '../core/parse/limits';

function columnName(index: number): string {
  let name = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  return name;
}

/** One sheet of `cells` numbers, `cols` to a row, as Excel writes them (r attributes, shared nothing). */
function workbook(cells: number, cols: number): Uint8Array {
  const names = Array.from({ length: cols }, (_, c) => columnName(c));
  const rows: string[] = [];
  for (let r = 1; r <= Math.ceil(cells / cols); r++) {
    let row = `<row r="${r}">`;
    for (let c = 0; c < cols && (r - 1) * cols + c < cells; c++) row += `<c r="${names[c]}${r}"><v>${(r * 31 + c * 7) % 1000}</v></c>`;
    rows.push(`${row}</row>`);
  }
  const part = (xml: string) => [strToU8(xml), { level: 6 }] as [Uint8Array, { level: 6 }];
  return zipSync({
    '[Content_Types].xml': part('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'),
    'xl/workbook.xml': part(
      '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Export" sheetId="1" r:id="rId1"/></sheets></workbook>',
    ),
    'xl/_rels/workbook.xml.rels': part(
      '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
    ),
    'xl/worksheets/sheet1.xml': part(`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${rows.join('')}</sheetData></worksheet>`),
  });
}

interface Run {
  wallS: number;
  rssMb: number;
  exit: number;
  error: string;
  left: string[];
}

function parseUnderTime(file: string, out: string): Run {
  const run = spawnSync('/usr/bin/time', ['-v', process.execPath, path.join(REPO_ROOT, 'dist/cli/main.js'), 'parse', file, '--out', out], { encoding: 'utf8' });
  const stat = (label: string) => run.stderr.match(new RegExp(`${label}: (.+)`))?.[1] ?? '';
  const [m = '0', s = '0'] = stat('Elapsed \\(wall clock\\) time \\(h:mm:ss or m:ss\\)').split(':').slice(-2);
  const failure = run.stderr.split('\n').find((line) => line.startsWith('{"file"'));
  return {
    wallS: Number(m) * 60 + Number(s),
    rssMb: Number(stat('Maximum resident set size \\(kbytes\\)')) / 1024,
    exit: run.status ?? -1,
    error: failure ? ((e) => `${e.type}: ${e.message}`)((JSON.parse(failure) as { error: { type: string; message: string } }).error) : '',
    left: fs.existsSync(out) ? fs.readdirSync(out) : [],
  };
}

function main(): void {
  const { values } = parseArgs({ options: { cells: { type: 'string', default: '2000000' }, cols: { type: 'string', default: '20' } } });
  const cols = Number(values.cols);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-big-sheet-'));
  try {
    console.log(`| workbook | .xlsx MB | sheet XML MB | inflate only (s) | llmloop parse wall (s) | ÷ inflate | peak RSS (MB) | exit | outcome | left in --out |`);
    console.log(`| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
    for (const cells of [Number(values.cells), DEFAULT_LIMITS.max_cells]) {
      const bytes = workbook(cells, cols);
      const file = path.join(dir, `${cells}-cells.xlsx`);
      fs.writeFileSync(file, bytes);
      const started = performance.now();
      const xml = unzipSync(bytes)['xl/worksheets/sheet1.xml']!;
      const inflateS = (performance.now() - started) / 1000;
      const run = parseUnderTime(file, path.join(dir, `out-${cells}`));
      const outcome = run.error || 'parsed';
      console.log(
        `| ${cells.toLocaleString('en')} cells | ${(bytes.byteLength / 1e6).toFixed(1)} | ${(xml.byteLength / 1e6).toFixed(1)} | ${inflateS.toFixed(2)} | ${run.wallS.toFixed(1)} | ${(run.wallS / inflateS).toFixed(0)}x | ${run.rssMb.toFixed(0)} | ${run.exit} | ${outcome} | ${run.left.join(' ') || '(nothing)'} |`,
      );
    }
    console.log(`\nload average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, ${os.cpus().length} CPUs`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();

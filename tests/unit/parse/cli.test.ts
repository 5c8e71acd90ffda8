import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../../../cli/command';
import { parseCommand } from '../../../cli/commands/parse';
import { schemaProblems } from '../../../core/schemas';
import { docx, paragraph } from './fixtures';

describe('llmloop parse', () => {
  let dir: string;
  let stdout: string[];
  let stderr: string[];
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-parse-cli-'));
    [stdout, stderr] = [[], []];
    jest.spyOn(console, 'log').mockImplementation((line: string) => void stdout.push(line));
    jest.spyOn(console, 'error').mockImplementation((line: string) => void stderr.push(line));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const write = (relative: string, bytes: Uint8Array | string) => {
    const file = path.join(dir, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, bytes);
    return file;
  };
  const SUMMARY = /^parse: (\d+) ok, (\d+) failed, (\d+) pages \(slides, sheets\), \d+\.\d s$/;

  it('writes <name.ext>.json + .md per good file, one JSON error line per bad file, a summary, and exits 1', async () => {
    const good = write('memo.docx', docx(paragraph('Quarterly memo')));
    const bad = write('broken.pdf', 'not a pdf');
    const out = path.join(dir, 'out');
    expect(await parseCommand.run([good, bad, '--out', out])).toBe(1);
    expect(stdout.at(-1)).toMatch(SUMMARY);
    expect(SUMMARY.exec(stdout.at(-1)!)!.slice(1, 4)).toEqual(['1', '1', '1']);
    expect(await parseCommand.run([good, '--out', out])).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['memo.docx.json', 'memo.docx.md']);
    expect(schemaProblems('DocumentModel', JSON.parse(fs.readFileSync(path.join(out, 'memo.docx.json'), 'utf8')))).toEqual([]);
    expect(fs.readFileSync(path.join(out, 'memo.docx.md'), 'utf8')).toBe('Quarterly memo\n');
    expect(stderr.map((line) => JSON.parse(line))).toEqual([{ file: bad, error: { type: 'UnsupportedFormat', message: expect.any(String) } }]);
  });

  it('a missing file is a typed FileNotFound failure and the other files still parse', async () => {
    const good = write('memo.docx', docx(paragraph('Memo')));
    const missing = path.join(dir, 'nope.docx');
    expect(await parseCommand.run([missing, good, '--out', path.join(dir, 'out')])).toBe(1);
    expect(stderr.map((line) => JSON.parse(line))).toEqual([{ file: missing, error: { type: 'FileNotFound', message: `no such file or folder: ${missing}` } }]);
    expect(fs.readdirSync(path.join(dir, 'out')).sort()).toEqual(['memo.docx.json', 'memo.docx.md']);
  });

  it('searches folders recursively, keeps their layout under --out and selects files with --include', async () => {
    write('in/a.docx', docx(paragraph('A')));
    write('in/sub/a.docx', docx(paragraph('A nested')));
    write('in/sub/deeper/b.docx', docx(paragraph('B')));
    write('in/notes.txt', 'not a document');
    const out = path.join(dir, 'out');
    expect(await parseCommand.run([path.join(dir, 'in'), '--out', out])).toBe(0);
    const written = (fs.readdirSync(out, { recursive: true }) as string[]).filter((f) => f.endsWith('.json')).sort();
    expect(written).toEqual(['a.docx.json', path.join('sub', 'a.docx.json'), path.join('sub', 'deeper', 'b.docx.json')]);
    expect(stdout.at(-1)).toMatch(/^parse: 3 ok, 0 failed, /);

    const picked = path.join(dir, 'picked');
    expect(await parseCommand.run([path.join(dir, 'in'), '--include', 'b.*', '--include', 'sub/*.docx', '--out', picked])).toBe(0);
    expect((fs.readdirSync(picked, { recursive: true }) as string[]).filter((f) => f.endsWith('.json')).sort()).toEqual([path.join('sub', 'a.docx.json'), path.join('sub', 'deeper', 'b.docx.json')]);
  });

  it('refuses two inputs that would be written to the same output, and a folder with nothing to parse', async () => {
    const first = write('x/memo.docx', docx(paragraph('1')));
    const second = write('y/memo.docx', docx(paragraph('2')));
    await expect(parseCommand.run([first, second, '--out', path.join(dir, 'out')])).rejects.toBeInstanceOf(UsageError);
    await expect(parseCommand.run([path.join(dir, 'x'), '--include', '*.pdf', '--out', path.join(dir, 'out')])).rejects.toMatchObject({ type: 'NoDocuments' });
  });
});

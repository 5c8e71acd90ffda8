import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCommand } from '../../../cli/commands/parse';
import { schemaProblems } from '../../../core/schemas';
import { docx, paragraph } from './fixtures';

describe('llmloop parse', () => {
  it('writes JSON + Markdown per good file, one JSON error line per bad file, and exits 2', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-parse-cli-'));
    const good = path.join(dir, 'memo.docx');
    const bad = path.join(dir, 'broken.pdf');
    fs.writeFileSync(good, docx(paragraph('Quarterly memo')));
    fs.writeFileSync(bad, 'not a pdf');
    const errors: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    try {
      expect(await parseCommand.run([good, bad, '--out', path.join(dir, 'out')])).toBe(2);
      expect(await parseCommand.run([good, '--out', path.join(dir, 'out')])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(fs.readdirSync(path.join(dir, 'out')).sort()).toEqual(['memo.docx.json', 'memo.docx.md']);
    expect(schemaProblems('DocumentModel', JSON.parse(fs.readFileSync(path.join(dir, 'out', 'memo.docx.json'), 'utf8')))).toEqual([]);
    expect(fs.readFileSync(path.join(dir, 'out', 'memo.docx.md'), 'utf8')).toBe('Quarterly memo\n');
    expect(errors.map((line) => JSON.parse(line))).toEqual([{ file: bad, error: { type: 'UnsupportedFormat', message: expect.any(String) } }]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { TypedError } from '../../core/errors';
import { parseDocument, toMarkdown } from '../../core/parse';
import { limitExceeded, resolveLimits } from '../../core/parse/limits';
import type { Command } from '../command';
import { numberFlag } from '../flags';

export const parseCommand: Command = {
  name: 'parse',
  summary: 'parse PDF/DOCX/PPTX/XLSX files into the document model (JSON) and Markdown',
  usage: `llmloop parse FILE... --out DIR [--password PW] [--max-pages N] [--max-bytes N]

Writes DIR/<basename>.json (schemas/document.schema.json) and DIR/<basename>.md per file.
A file that fails writes nothing and prints one JSON line to stderr:
  {"file": "...", "error": {"type": "...", "message": "..."}}
Exit status: 0 when every file parsed, 2 when any failed.`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { out: { type: 'string' }, password: { type: 'string' }, 'max-pages': { type: 'string' }, 'max-bytes': { type: 'string' } },
    });
    if (!values.out || positionals.length === 0) {
      console.error(parseCommand.usage);
      return 2;
    }
    const limits = {
      ...(values['max-pages'] ? { max_pages: numberFlag('--max-pages', values['max-pages'], { integer: true, min: 1 })! } : {}),
      ...(values['max-bytes'] ? { max_bytes: numberFlag('--max-bytes', values['max-bytes'], { integer: true, min: 1 })! } : {}),
    };
    const maxBytes = resolveLimits(limits).max_bytes;
    await fs.mkdir(values.out, { recursive: true });
    let failed = 0;
    for (const file of positionals) {
      try {
        // Checked before reading, so a huge file is refused without loading it (default limit included).
        const { size } = await fs.stat(file);
        if (size > maxBytes) throw limitExceeded('max_bytes', maxBytes, `file has ${size} bytes`);
        const model = await parseDocument(await fs.readFile(file), { path: file, limits, ...(values.password !== undefined ? { password: values.password } : {}) });
        const base = path.join(values.out, path.basename(file));
        await fs.writeFile(`${base}.json`, JSON.stringify(model, null, 1));
        await fs.writeFile(`${base}.md`, toMarkdown(model));
      } catch (err) {
        failed++;
        const type = err instanceof TypedError ? err.type : (err as NodeJS.ErrnoException).code ? 'IOError' : 'InternalError';
        console.error(JSON.stringify({ file, error: { type, message: err instanceof Error ? err.message : String(err) } }));
      }
    }
    return failed ? 2 : 0;
  },
};


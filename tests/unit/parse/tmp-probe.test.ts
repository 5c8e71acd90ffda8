import fs from 'node:fs';
import { parseDocument } from '../../../core/parse';
it('loads pdf', async () => {
  const m = await parseDocument(fs.readFileSync('../shared/corpus/inputs/pdf/unstructured-simplified_chinese.pdf'));
  expect(m.units.length).toBe(1);
  console.log(m.blocks.slice(0,3));
});

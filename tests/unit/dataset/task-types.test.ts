import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../../core/config';
import { TASK_TYPES } from '../../../core/dataset/config';

test('TASK_TYPES is the TaskType enum of the dataset schema, in its order', () => {
  const schema = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'schemas', 'dataset.schema.json'), 'utf8')) as { definitions: { TaskType: { enum: string[] } } };
  expect([...TASK_TYPES]).toEqual(schema.definitions.TaskType.enum);
});

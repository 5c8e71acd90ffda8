import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import fs from 'node:fs';
import path from 'node:path';
import { HISTORY_DIR, type RecordedHistory } from '../helpers/histories';

jest.setTimeout(120_000);

/** Every recorded history must replay against today's workflow code: a change that breaks determinism fails here. */
describe('replay of recorded workflow histories', () => {
  const files = fs.existsSync(HISTORY_DIR) ? fs.readdirSync(HISTORY_DIR).filter((f) => f.endsWith('.json')).sort() : [];

  it('has recorded histories to replay', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s replays without nondeterminism', async (file) => {
    const recorded = JSON.parse(fs.readFileSync(path.join(HISTORY_DIR, file), 'utf8')) as RecordedHistory;
    await Worker.runReplayHistory({ workflowBundle: { codePath: process.env.LLMLOOP_TEST_WORKFLOW_BUNDLE! } }, historyFromJSON(recorded.history), recorded.workflow_id);
  });
});

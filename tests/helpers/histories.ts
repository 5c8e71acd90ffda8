/**
 * Workflow histories for replay tests. Integration tests call recordHistory(handle, name);
 * with LLMLOOP_RECORD_HISTORIES=1 (make record-histories) the history is written to tests/histories/,
 * where tests/integration/replay.test.ts replays every file against the current workflow bundle.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../core/config';

export const HISTORY_DIR = path.join(REPO_ROOT, 'tests', 'histories');

/** A history with the id it ran under: workflows that derive child ids from their own must replay under it. */
export interface RecordedHistory {
  workflow_id: string;
  history: unknown;
}

export async function recordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env.LLMLOOP_RECORD_HISTORIES !== '1') return;
  const history = await handle.fetchHistory();
  const recorded: RecordedHistory = { workflow_id: handle.workflowId, history: JSON.parse(historyToJSON(history)) };
  fs.mkdirSync(HISTORY_DIR, { recursive: true });
  fs.writeFileSync(path.join(HISTORY_DIR, `${name}.json`), JSON.stringify(recorded));
}

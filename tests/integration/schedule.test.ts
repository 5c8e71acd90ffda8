import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../core/config';
import { testAddress, testClient } from '../helpers/temporal';

jest.setTimeout(120_000);
const run = promisify(execFile);

/** Drives `bin/llmloop schedule ...` (the compiled CLI) against the run's dev server. */
async function llmloop(...args: string[]): Promise<string> {
  const { stdout } = await run(path.join(REPO_ROOT, 'bin', 'llmloop'), args, { env: { ...process.env, TEMPORAL_ADDRESS: testAddress() } });
  return stdout;
}

describe('llmloop schedule: Temporal Schedules for retraining', () => {
  const id = `nightly-${Date.now()}`;
  const corpus = path.join(REPO_ROOT, 'samples', 'corpus');

  it('creates, lists, pauses, triggers and deletes a retraining schedule', async () => {
    const client = await testClient();
    expect(await llmloop('schedule', 'create', id, '--cron', '0 2 * * *', corpus)).toContain(`created schedule ${id}`);
    const described = await client.schedule.getHandle(id).describe();
    expect(described.policies.overlap).toBe('SKIP');
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'scheduledRetraining', taskQueue: 'llmloop-cpu' });
    const args = (described.action as { args: { lifecycle: { sources: { path: string }[] } }[] }).args;
    expect(args[0]!.lifecycle.sources).toHaveLength(7); // the seven files of samples/corpus

    expect(await llmloop('schedule', 'list')).toMatch(new RegExp(`${id}\\tactive`));
    await llmloop('schedule', 'pause', id, '--note', 'maintenance');
    expect((await client.schedule.getHandle(id).describe()).state).toMatchObject({ paused: true, note: 'maintenance' });
    await llmloop('schedule', 'unpause', id);

    await llmloop('schedule', 'trigger', id);
    let started: string | undefined;
    for (let i = 0; i < 50 && !started; i += 1) {
      started = (await client.schedule.getHandle(id).describe()).info.recentActions[0]?.action.workflow.workflowId;
      if (!started) await new Promise((r) => setTimeout(r, 200));
    }
    expect(started).toMatch(new RegExp(`^retrain-${id}`));
    // No worker serves this test's queue in this file: the retraining itself is covered elsewhere.
    await client.workflow.getHandle(started!).terminate('schedule test over');

    await llmloop('schedule', 'delete', id);
    await expect(client.schedule.getHandle(id).describe()).rejects.toThrow();
  });

  it('names what is wrong with a bad call', async () => {
    await expect(llmloop('schedule', 'create', 'x', corpus)).rejects.toMatchObject({ stderr: expect.stringContaining('--cron') });
    await expect(llmloop('schedule', 'frobnicate')).rejects.toMatchObject({ stderr: expect.stringContaining("unknown action 'frobnicate'") });
  });
});

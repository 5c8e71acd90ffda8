/**
 * `llmloop run`, `status` and `health` as a user types them (through cli/main), against the real dev
 * server with a Node and a Python worker. Their usage errors and what they say without a server are
 * in tests/unit/cli-main.test.ts.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { EXIT } from '../../cli/command';
import { main } from '../../cli/main';
import { REPO_ROOT } from '../../core/config';
import type { HealthReport, LifecycleProgress, LifecycleResult } from '../../schemas/generated/types';
import { startTestWorkers, testClient } from '../helpers/temporal';

jest.setTimeout(180_000);

/** `llmloop ...argv` in this process: its exit code and what it printed. */
async function llmloop(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [stdout, stderr]: string[][] = [[], []];
  const log = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void stdout.push(args.join(' ')));
  const error = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void stderr.push(args.join(' ')));
  try {
    return { code: await main(argv), stdout: stdout.join('\n'), stderr: stderr.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe('llmloop run, status and health on a real dev server', () => {
  let workers: { stop: () => Promise<void> } | undefined;
  beforeAll(async () => {
    workers = await startTestWorkers();
  });
  afterAll(async () => {
    await workers?.stop();
  });

  it('health prints the report of a Node and a Python activity', async () => {
    const { code, stdout } = await llmloop('health', '--gpu-class', 'cpu');
    expect(code).toBe(EXIT.ok);
    const report = JSON.parse(stdout) as HealthReport;
    expect([report.node.language, report.python.language, report.python.task_queue]).toEqual(['typescript', 'python', 'llmloop-gpu-cpu']);
  });

  it('run --detach starts a lifecycle that status follows, as text and as JSON', async () => {
    const id = `cli-run-${randomUUID()}`;
    const doc = path.join(REPO_ROOT, 'samples', 'corpus', 'pump-station-report.docx');
    const started = await llmloop('run', doc, '--config', path.join(REPO_ROOT, 'config', 'lifecycle.tiny.json'), '--id', id, '--detach');
    expect(started).toEqual({ code: EXIT.ok, stdout: `started lifecycle ${id} (1 documents)`, stderr: '' });

    // A query needs the run's first workflow task done; status itself does not wait for that.
    const handle = (await testClient()).workflow.getHandle(id);
    while (!(await handle.query('progress').then(() => true, () => false))) await new Promise((r) => setTimeout(r, 200));
    const running = await llmloop('status', id, '--json');
    expect(running.code).toBe(EXIT.ok);
    const { status, progress } = JSON.parse(running.stdout) as { status: string; progress: LifecycleProgress };
    expect(status).toBe('RUNNING');
    expect(progress.stages.map((s) => s.stage)).toEqual(['ingest', 'dataset', 'train', 'evaluate', 'publish']);

    // Training is not what this test is about: stop the run, then status shows how it ended.
    await handle.executeUpdate('cancel', { args: [{ reason: 'cli test' }] });
    expect(((await handle.result()) as LifecycleResult).status).toBe('cancelled');
    const finished = await llmloop('status', id);
    expect(finished.code).toBe(EXIT.ok);
    expect(finished.stdout.split('\n')[0]).toBe(`${id}: COMPLETED`);
    expect(finished.stdout).toContain('"status": "cancelled"');
  });

  it('status of a run that does not exist is a typed RunNotFound (exit 1)', async () => {
    const { code, stderr } = await llmloop('status', 'no-such-run');
    expect(code).toBe(EXIT.failure);
    expect(stderr).toMatch(/^llmloop status: RunNotFound: no run with id no-such-run/);
  });
});

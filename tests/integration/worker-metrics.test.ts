/**
 * Both workers, started as in production with LLMLOOP_METRICS_PORT, serve /metrics with the Temporal
 * SDK's metrics and llmloop's own; a parse through the Node worker shows up in its counters.
 */
import type { Client } from '@temporalio/client';
import path from 'node:path';
import { REPO_ROOT, TASK_QUEUE_CPU } from '../../core/config';
import { freePort } from '../../core/devserver';
import type { Service } from '../../core/services';
import { startNodeWorkerProcess, startPythonWorkerProcess } from '../../core/stack';
import { ingestDocuments } from '../../workflows';
import { testClient } from '../helpers/temporal';

jest.setTimeout(180_000);

async function scrape(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

/** The SDK records its first figures once the worker polls: scrape until they are there. */
async function scrapeUntil(port: number, pattern: RegExp): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const text = await scrape(port);
    if (pattern.test(text) || attempt === 30) return text;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

describe('worker metrics', () => {
  let client: Client;
  const services: Service[] = [];

  beforeAll(async () => {
    client = await testClient();
  });

  afterAll(async () => {
    for (const service of services) await service.stop();
  });

  it('the Node worker serves the SDK metrics and llmloop counters that count a parse', async () => {
    const port = await freePort();
    services.push(await startNodeWorkerProcess({ ...process.env, LLMLOOP_METRICS_PORT: String(port), LLMLOOP_METRICS_HOST: '127.0.0.1' }, path.join(process.env.LLMLOOP_DATA_DIR!, 'metrics-test')));
    const manifest = await client.workflow.execute(ingestDocuments, {
      taskQueue: TASK_QUEUE_CPU,
      workflowId: `worker-metrics-${Date.now()}`,
      args: [{ sources: [{ path: path.join(REPO_ROOT, 'samples', 'corpus', 'incident-log.xlsx') }] }],
    });
    expect(manifest.ok).toBe(1);
    const text = await scrapeUntil(port, /^temporal_activity_execution_latency/m);
    expect(text).toMatch(/^llmloop_documents_parsed_total\{format="xlsx",reused="(true|false)"\} 1$/m);
    expect(text).toMatch(/^# TYPE llmloop_samples_rejected_total counter$/m);
    expect(text).toMatch(/^temporal_workflow_task_schedule_to_start_latency\w*\{.*task_queue="llmloop-cpu"/m);
    expect(text).toMatch(/^temporal_activity_execution_latency\w*\{.*activity_type="parseDocumentActivity"/m);
  });

  it('the Python worker serves the SDK metrics and llmloop gauges', async () => {
    const port = await freePort();
    services.push(await startPythonWorkerProcess({ ...process.env, LLMLOOP_METRICS_PORT: String(port), LLMLOOP_METRICS_HOST: '127.0.0.1' }, undefined, 'metrics-test'));
    const text = await scrapeUntil(port, /^temporal_/m);
    expect(text).toMatch(/^# TYPE llmloop_training_step_seconds histogram$/m);
    expect(text).toMatch(/^llmloop_evaluation_samples_total 0\.0$/m);
    expect(text).toMatch(/^temporal_\w+\{.*task_queue="llmloop-gpu-metrics-test"/m);
  });
});

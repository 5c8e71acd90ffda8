/**
 * Payload protection across languages on a real dev server: the health-check workflow, started from
 * TS with the codec, runs a Node activity and a Python activity whose worker has the same keys. The
 * raw history, read with a codec-less connection, must not contain what travelled through it, and
 * the Python activity's result must be sealed under the Python worker's own key id.
 */
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { randomUUID } from 'node:crypto';
import { AesGcmPayloadCodec, codecKeysFromEnv } from '../../core/codec';
import type { Service } from '../../core/services';
import { healthCheck } from '../../workflows';
import { startPythonWorker, testAddress, testClient, testNodeWorker } from '../helpers/temporal';

jest.setTimeout(180_000);

const KEYS = `ts-key:${Buffer.alloc(32, 1).toString('base64')},py-key:${Buffer.alloc(32, 2).toString('base64')}`;
const GPU_CLASS = 'codec-test';
const saved = { keys: process.env.LLMLOOP_CODEC_KEYS, keyId: process.env.LLMLOOP_CODEC_KEY_ID };
let python: Service;

beforeAll(async () => {
  process.env.LLMLOOP_CODEC_KEYS = KEYS;
  process.env.LLMLOOP_CODEC_KEY_ID = 'ts-key';
  python = await startPythonWorker(GPU_CLASS, { LLMLOOP_CODEC_KEYS: KEYS, LLMLOOP_CODEC_KEY_ID: 'py-key' });
});

afterAll(async () => {
  await python?.stop();
  for (const [name, value] of [['LLMLOOP_CODEC_KEYS', saved.keys], ['LLMLOOP_CODEC_KEY_ID', saved.keyId]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

/** Every Payload anywhere in a history event tree. */
function payloadsIn(node: unknown): Payload[] {
  if (!node || typeof node !== 'object') return [];
  if ('metadata' in node && 'data' in node && (node as Payload).metadata?.encoding) return [node as Payload];
  return Object.values(node).flatMap(payloadsIn);
}

test('payloads are encrypted in history by TS and Python, and both decrypt each other', async () => {
  const client = await testClient();
  const worker = await testNodeWorker();
  const workflowId = `codec-${randomUUID()}`;
  const handle = await client.workflow.start(healthCheck, { taskQueue: 'llmloop-cpu', workflowId, args: [{ gpu_class: GPU_CLASS }] });
  const report = await worker.runUntil(handle.result());
  // The Python activity decrypted the Node activity's artifact ref and sealed its own reply.
  expect(report.python.language).toBe('python');
  const markers = [report.node.artifact.sha256, report.python.artifact.sha256, report.python.runtime_version, 'node_artifact'];

  const plainConnection = await Connection.connect({ address: testAddress() });
  try {
    const raw = await plainConnection.workflowService.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId } });
    const bytes = Buffer.from(temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryResponse.encode(raw).finish());
    for (const marker of markers) expect(bytes.includes(marker)).toBe(false);

    const payloads = payloadsIn(raw.history);
    const keyIds = new Set(payloads.map((p) => Buffer.from(p.metadata!['encryption-key-id'] ?? []).toString()));
    expect(payloads.every((p) => Buffer.from(p.metadata!.encoding!).toString() === 'binary/encrypted')).toBe(true);
    // Both languages seal in the format that binds key id and encoding as associated data.
    expect(new Set(payloads.map((p) => Buffer.from(p.metadata!['encryption-format'] ?? []).toString()))).toEqual(new Set(['aes-256-gcm/aad-v1']));
    expect(keyIds).toEqual(new Set(['ts-key', 'py-key']));

    // The markers are in there, sealed: decrypting the same payloads brings them back.
    const opened = await new AesGcmPayloadCodec(codecKeysFromEnv()!).decode(payloads);
    const plaintext = Buffer.concat(opened.map((p) => Buffer.from(p.data ?? [])));
    for (const marker of markers) expect(plaintext.includes(marker)).toBe(true);
  } finally {
    await plainConnection.close();
  }
});

test('failure messages are sealed too: by the Python worker, and by the workflow that reports them', async () => {
  const client = await testClient();
  const worker = await testNodeWorker();
  const workflowId = `codec-failure-${randomUUID()}`;
  const handle = await client.workflow.start(healthCheck, { taskQueue: 'llmloop-cpu', workflowId, args: [{ gpu_class: GPU_CLASS, simulate_failure: 'invalid_request' }] });
  // Through the codec the failure reads as it was raised.
  const failure = await worker.runUntil(handle.result().then(() => undefined, (err: unknown) => err));
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  const cause = (failure as WorkflowFailedError).cause?.cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect((cause as ApplicationFailure).type).toBe('InvalidRequest');
  expect((cause as ApplicationFailure).message).toContain('asked for an InvalidRequest failure');

  const plainConnection = await Connection.connect({ address: testAddress() });
  try {
    const raw = await plainConnection.workflowService.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId } });
    const bytes = Buffer.from(temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryResponse.encode(raw).finish());
    expect(bytes.includes('asked for an InvalidRequest failure')).toBe(false);
    expect(bytes.includes('trainers/health.py')).toBe(false); // nor the Python stack trace
    const events = raw.history?.events ?? [];
    const activityFailure = events.find((e) => e.activityTaskFailedEventAttributes)?.activityTaskFailedEventAttributes?.failure;
    const workflowFailure = events.find((e) => e.workflowExecutionFailedEventAttributes)?.workflowExecutionFailedEventAttributes?.failure;
    for (const sealed of [activityFailure, workflowFailure]) {
      expect(sealed?.message).toBe('Encoded failure');
      expect(Buffer.from(sealed!.encodedAttributes!.metadata!.encoding!).toString()).toBe('binary/encrypted');
    }
  } finally {
    await plainConnection.close();
  }
});

test('a workflow started with a plaintext input is refused by a worker that has the keys', async () => {
  const worker = await testNodeWorker();
  const plainConnection = await Connection.connect({ address: testAddress() });
  try {
    // A client without the codec (as `temporal workflow start --input` would be) writes plaintext into history.
    const plainClient = new Client({ connection: plainConnection });
    const handle = await plainClient.workflow.start(healthCheck, { taskQueue: 'llmloop-cpu', workflowId: `codec-plain-${randomUUID()}`, args: [{ gpu_class: GPU_CLASS }] });
    const refusal = await worker.runUntil(async () => {
      for (;;) {
        const history = await handle.fetchHistory();
        const failed = history.events?.find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes;
        // The worker seals its own failure report: open it with the keys.
        if (failed) return Buffer.from((await new AesGcmPayloadCodec(codecKeysFromEnv()!).decode([failed.failure!.encodedAttributes!]))[0]!.data!).toString();
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    });
    expect(refusal).toContain('refused a plaintext payload');
    await handle.terminate('test done');
  } finally {
    await plainConnection.close();
  }
});

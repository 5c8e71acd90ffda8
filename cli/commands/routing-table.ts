import fs from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { artifactStoreFromEnv, type ArtifactRef } from '../../core/artifacts';
import { loadConfig, TASK_QUEUE_CPU } from '../../core/config';
import { TableStore } from '../../core/routing/store';
import { validate } from '../../core/schemas';
import { connectClient } from '../../core/temporal';
import type { PublishRoutingTableInput, RoutingConstraints } from '../../schemas/generated/types';
import { EXIT, UsageError, verbCommand } from '../command';
import { numberFlag } from '../flags';

const USAGE = `llmloop routing-table publish --perf-index FILE_OR_SHA256 [--tolerance Q] [--latency-ms MS]
                              [--cost-limit USD] [--margin Q] [--approval-timeout S] [--no-wait]
llmloop routing-table decide --workflow-id ID (--approve | --reject) --by NAME --reason TEXT
llmloop routing-table list [--json]
llmloop routing-table show [VERSION]
llmloop routing-table rollback --to VERSION

publish   runs the publishRoutingTable workflow (a Node worker must be running): builds a table from
          the perf index (a PerfIndex JSON file, stored first, or the sha256 of a stored one),
          evaluates it and the live champion on that index, and publishes it when its quality is not
          below the champion's by more than --margin (default 0.01 quality points); otherwise it
          waits --approval-timeout seconds (default 86400) for 'decide'. --tolerance (quality points),
          --latency-ms (p95) and --cost-limit (per request) are the table's default constraints.
decide    approves or rejects a candidate that is waiting (Temporal update decidePublication).
list      published versions, oldest first; '*' marks the live one.
show      a published table (default: the live one) as JSON.
rollback  makes an earlier published version live again (atomic; gateways pick it up on their next poll).
Tables live under $LLMLOOP_DATA_DIR/routing/tables.`;

function tableStore(): TableStore {
  return TableStore.inDataDir(loadConfig().dataDir, artifactStoreFromEnv());
}

async function perfIndexRef(fileOrSha: string): Promise<ArtifactRef> {
  const store = artifactStoreFromEnv();
  if (/^[0-9a-f]{64}$/.test(fileOrSha)) {
    const bytes = await store.get({ sha256: fileOrSha });
    return { sha256: fileOrSha, bytes: bytes.byteLength, media_type: 'application/json' };
  }
  validate('PerfIndex', JSON.parse(await fs.readFile(fileOrSha, 'utf8')));
  return store.putFile(fileOrSha, 'application/json');
}

async function publish(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'perf-index': { type: 'string' },
      tolerance: { type: 'string' },
      'latency-ms': { type: 'string' },
      'cost-limit': { type: 'string' },
      margin: { type: 'string' },
      'approval-timeout': { type: 'string' },
      'no-wait': { type: 'boolean' },
    },
  });
  if (!values['perf-index']) throw new UsageError('--perf-index FILE_OR_SHA256 is required');
  const defaults: RoutingConstraints = {};
  const tolerance = numberFlag('--tolerance', values.tolerance, { min: 0 });
  const latency = numberFlag('--latency-ms', values['latency-ms'], { min: 0 });
  const costLimit = numberFlag('--cost-limit', values['cost-limit'], { min: 0 });
  if (tolerance !== undefined) defaults.tolerance = tolerance;
  if (latency !== undefined) defaults.latency_ms = latency;
  if (costLimit !== undefined) defaults.cost_limit = costLimit;
  const margin = numberFlag('--margin', values.margin, { min: 0 });
  const timeout = numberFlag('--approval-timeout', values['approval-timeout'], { min: 0 });
  const input = validate('PublishRoutingTableInput', {
    perf_index: await perfIndexRef(values['perf-index']),
    defaults,
    ...(margin !== undefined ? { margin } : {}),
    ...(timeout !== undefined ? { approval_timeout_s: Math.round(timeout) } : {}),
  } satisfies PublishRoutingTableInput);
  const client = await connectClient();
  const handle = await client.workflow.start('publishRoutingTable', { taskQueue: TASK_QUEUE_CPU, workflowId: `publish-routing-table-${Date.now()}`, args: [input] });
  console.error(`routing-table: workflow ${handle.workflowId} started`);
  if (values['no-wait']) return EXIT.ok;
  const result = await handle.result();
  console.log(JSON.stringify(result, null, 2));
  return EXIT.ok;
}

async function decide(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { 'workflow-id': { type: 'string' }, approve: { type: 'boolean' }, reject: { type: 'boolean' }, by: { type: 'string' }, reason: { type: 'string' } },
  });
  if (!values['workflow-id']) throw new UsageError('--workflow-id ID is required');
  if (values.approve === values.reject) throw new UsageError('exactly one of --approve / --reject is required');
  const decision = validate('PublicationDecision', { approve: Boolean(values.approve), by: values.by ?? '', reason: values.reason ?? '' });
  const client = await connectClient();
  await client.workflow.getHandle(values['workflow-id']).executeUpdate('decidePublication', { args: [decision] });
  console.log(`routing-table: ${decision.approve ? 'approved' : 'rejected'} ${values['workflow-id']}`);
  return EXIT.ok;
}

async function list(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false } } });
  const store = tableStore();
  const current = await store.current();
  const records = await store.list();
  if (values.json) {
    console.log(JSON.stringify(records.map((record) => ({ ...record, live: record.version === current?.version })), null, 2));
    return EXIT.ok;
  }
  if (records.length === 0) console.error('no routing table has been published yet (llmloop routing-table publish)');
  for (const record of records) {
    const quality = record.evaluation ? record.evaluation.quality.toFixed(4) : '-';
    console.log(`${record.version === current?.version ? '*' : ' '} ${record.version}  ${record.published_at}  perf-index ${record.perf_index_version}  expected quality ${quality}`);
  }
  return EXIT.ok;
}

async function show(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, options: {} });
  const [version] = positionals;
  const store = tableStore();
  const record = version ? await store.record(version) : await store.current();
  if (!record) {
    console.error(version ? `routing-table: version ${version} was never published` : 'routing-table: nothing is published yet');
    return EXIT.failure;
  }
  console.log(JSON.stringify(await store.loadTable(record), null, 2));
  return EXIT.ok;
}

async function rollback(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { to: { type: 'string' } } });
  if (!values.to) throw new UsageError('--to VERSION is required');
  const record = await tableStore().rollback(values.to);
  console.log(`routing-table: ${record.version} is live`);
  return EXIT.ok;
}

export const routingTableCommand = verbCommand({
  name: 'routing-table',
  summary: 'publish (via workflow), decide, list, show and roll back versioned routing tables',
  usage: USAGE,
  verbs: { publish, decide, list, show, rollback },
});

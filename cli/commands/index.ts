import { parseArgs } from 'node:util';
import { artifactStoreFromEnv } from '../../core/artifacts';
import { PerfIndexRegistry, perfIndexTable } from '../../core/cluster';
import { loadConfig } from '../../core/config';
import { validate } from '../../core/schemas';
import type { PerfIndex } from '../../schemas/generated/types';
import { EXIT, UsageError, type Command } from '../command';

const FULL_SHA256 = /^[0-9a-f]{64}$/;

export const indexCommand: Command = {
  name: 'index',
  summary: 'show the cluster x model performance indexes written by evaluateFleet',
  usage: `llmloop index show [VERSION|SHA256|--latest] [--json]
llmloop index list [--json]

show   prints one index as a table: a row per cluster (id, label, size), a column per model with
       quality [95% CI], samples, mean latency and mean cost per request, or why the cell is missing.
       VERSION is a pi-... version, SHA256 the index artifact's hash (a unique prefix of a recorded
       one will do); --latest (the default) takes the last one recorded. --json prints the PerfIndex.
list   prints every recorded index: version, creation time, artifact hash (--json: the registry entries).

Indexes are recorded in $LLMLOOP_DATA_DIR/perf-index/registry.jsonl.`,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { latest: { type: 'boolean' }, json: { type: 'boolean' } } });
    const [verb, reference] = positionals;
    const registry = PerfIndexRegistry.inDataDir(loadConfig().dataDir);
    if (verb === 'list') {
      const entries = await registry.list();
      if (values.json) console.log(JSON.stringify(entries, null, 2));
      else if (entries.length === 0) console.error('no index has been recorded yet (evaluateFleet records one)');
      else for (const entry of entries) console.log(`${entry.version}  ${entry.created_at}  ${entry.perf_index.sha256}`);
      return EXIT.ok;
    }
    if (verb !== 'show') throw new UsageError(verb === undefined ? "a verb is required: 'show' or 'list'" : `unknown verb '${verb}' (known: show, list)`);
    const ref = !reference || values.latest ? (await registry.latest())?.perf_index : ((await registry.find(reference))?.perf_index ?? (FULL_SHA256.test(reference) ? { sha256: reference } : undefined));
    if (!ref) {
      console.error(reference ? `llmloop index: no recorded index matches ${reference}` : 'llmloop index: no index has been recorded yet (run evaluateFleet)');
      return EXIT.failure;
    }
    const index = validate('PerfIndex', await artifactStoreFromEnv().getJson<PerfIndex>(ref));
    console.log(values.json ? JSON.stringify(index, null, 2) : perfIndexTable(index));
    return EXIT.ok;
  },
};

import { parseArgs } from 'node:util';
import { LocalArtifactStore } from '../../core/artifacts';
import { PerfIndexRegistry, perfIndexTable } from '../../core/cluster';
import { loadConfig } from '../../core/config';
import { validate } from '../../core/schemas';
import type { PerfIndex } from '../../schemas/generated/types';
import type { Command } from '../command';

const FULL_SHA256 = /^[0-9a-f]{64}$/;

export const indexCommand: Command = {
  name: 'index',
  summary: 'show the cluster x model performance indexes written by evaluateFleet',
  usage: `llmloop index show [VERSION|SHA256|--latest] [--json]
llmloop index list

show   prints one index as a table: a row per cluster (id, label, size), a column per model with
       quality [95% CI], samples, mean latency and mean cost per request, or why the cell is missing.
       VERSION is a pi-... version, SHA256 the index artifact's hash (a unique prefix of a recorded
       one will do); --latest (the default) takes the last one recorded. --json prints the PerfIndex.
list   prints every recorded index: version, creation time, artifact hash.

Indexes are recorded in $LLMLOOP_DATA_DIR/perf-index/registry.jsonl.`,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { latest: { type: 'boolean' }, json: { type: 'boolean' } } });
    const [verb, reference] = positionals;
    const registry = PerfIndexRegistry.inDataDir(loadConfig().dataDir);
    if (verb === 'list') {
      for (const entry of await registry.list()) console.log(`${entry.version}  ${entry.created_at}  ${entry.perf_index.sha256}`);
      return 0;
    }
    if (verb !== 'show') {
      console.error(`llmloop index: expected 'show' or 'list'\n\n${indexCommand.usage}`);
      return 2;
    }
    const ref = !reference || values.latest ? (await registry.latest())?.perf_index : ((await registry.find(reference))?.perf_index ?? (FULL_SHA256.test(reference) ? { sha256: reference } : undefined));
    if (!ref) {
      console.error(reference ? `llmloop index: no recorded index matches ${reference}` : 'llmloop index: no index has been recorded yet (run evaluateFleet)');
      return 1;
    }
    const index = validate('PerfIndex', await LocalArtifactStore.fromEnv().getJson<PerfIndex>(ref));
    console.log(values.json ? JSON.stringify(index, null, 2) : perfIndexTable(index));
    return 0;
  },
};

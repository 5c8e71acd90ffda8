/** Routing-table activities: build + offline-evaluate a candidate, and publish a version. */
import { artifactStoreFromEnv, type ArtifactStore } from '../core/artifacts';
import { loadConfig } from '../core/config';
import { TableStore } from '../core/routing/store';
import { buildRoutingTable, evaluateTable } from '../core/routing/table';
import { TypedError } from '../core/errors';
import { validate } from '../core/schemas';
import type { BuildRoutingTableRequest, BuiltRoutingTable, PublishedTableRecord, TableEvaluation, ArtifactRef } from '../schemas/generated/types';
import { typedActivity } from './failures';

const ROUTING_TABLE_MEDIA_TYPE = 'application/vnd.llmloop.routing-table+json';

function stores(): { artifacts: ArtifactStore; tables: TableStore } {
  const artifacts = artifactStoreFromEnv();
  return { artifacts, tables: TableStore.inDataDir(loadConfig().dataDir, artifacts) };
}

/**
 * Builds the table for a perf index, stores it, and evaluates it and the current champion on
 * that same index, so the workflow compares like with like. Same index and knobs: same artifact.
 */
export async function prepareRoutingTable(request: BuildRoutingTableRequest): Promise<BuiltRoutingTable> {
  return typedActivity(async () => {
    const { perf_index, defaults = {}, router } = validate('BuildRoutingTableRequest', request);
    const { artifacts, tables } = stores();
    const index = validate('PerfIndex', await artifacts.getJson(perf_index));
    if (router && !(await artifacts.has(router.artifact))) {
      // A table must never point at a router the embedding server cannot load.
      throw new TypedError('ArtifactNotFound', `router artifact ${router.artifact.sha256} is not stored`, {}, true);
    }
    const table = buildRoutingTable(index, defaults, { createdAt: new Date().toISOString(), perfIndexRef: perf_index, ...(router ? { router } : {}) });
    const stored = await artifacts.putJson(table, ROUTING_TABLE_MEDIA_TYPE);
    const championRecord = await tables.current();
    const champion = championRecord ? { version: championRecord.version, evaluation: evaluateTable(await tables.loadTable(championRecord), index) } : undefined;
    return validate('BuiltRoutingTable', {
      table: stored,
      version: table.version,
      evaluation: evaluateTable(table, index)!,
      ...(champion ? { champion: champion.evaluation ? champion : { version: champion.version } } : {}),
    });
  });
}

/** Makes a stored table the live version (atomic pointer swap); publishing it again is a no-op. */
export async function publishRoutingTableVersion(request: { table: ArtifactRef; evaluation: TableEvaluation }): Promise<PublishedTableRecord> {
  return typedActivity(async () => {
    const { tables } = stores();
    const table = await tables.loadTable(request);
    return tables.publish({
      version: table.version,
      table: request.table,
      published_at: new Date().toISOString(),
      perf_index_version: table.perf_index_version,
      embedding_model: table.embedding_model,
      evaluation: request.evaluation,
    });
  });
}

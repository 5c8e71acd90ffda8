/**
 * The offline replay of `llmloop efficacy`: every test request is routed exactly as the gateway
 * routes a `model: "auto"` request (router/gateway.ts: embed its last user text, nearest table
 * cluster, that cluster's candidates ranked under the table's defaults, first choice answers), and
 * is then scored with the chosen model's own recorded answer to that very sample.
 */
import type { EfficacyPolicy, EfficacyQualityCost, EfficacyRouting, RoutingTable } from '../../schemas/generated/types';
import { rankCandidates, type Selection } from '../routing/select';
import { assignCluster } from '../routing/table';

/** One candidate's recorded answer to one test sample: its quality and what the request cost. */
export interface SampleOutcome {
  quality: number;
  cost: number;
}

/** Per candidate name, its outcome on each test sample (aligned with the test sample order). */
export type OutcomeMatrix = ReadonlyMap<string, readonly SampleOutcome[]>;

/** The gateway's selection for a request embedding, with the table's defaults as the only constraints. */
export function gatewaySelection(table: RoutingTable, vector: ArrayLike<number>): Selection | null {
  return rankCandidates(assignCluster(table, vector).candidates, table.defaults);
}

/** Mean quality and total cost of answering sample i with choose(i). */
export function policyOutcome(outcomes: OutcomeMatrix, n: number, choose: (sample: number) => string): EfficacyQualityCost {
  let quality = 0;
  let cost = 0;
  for (let i = 0; i < n; i++) {
    const outcome = outcomes.get(choose(i))?.[i];
    if (!outcome) throw new Error(`no recorded outcome of ${choose(i)} on test sample ${i}`);
    quality += outcome.quality;
    cost += outcome.cost;
  }
  return { quality: n ? quality / n : 0, cost };
}

export function alwaysOne(outcomes: OutcomeMatrix, n: number, name: string): EfficacyPolicy {
  return { name, ...policyOutcome(outcomes, n, () => name) };
}

/** Per sample the cheapest of the candidates with that sample's best quality (ties to the name, for stability). */
export function oracleChoice(outcomes: OutcomeMatrix, candidates: readonly string[], sample: number): string {
  const ranked = [...candidates].sort((a, b) => {
    const x = outcomes.get(a)![sample]!;
    const y = outcomes.get(b)![sample]!;
    return y.quality - x.quality || x.cost - y.cost || (a < b ? -1 : a > b ? 1 : 0);
  });
  return ranked[0]!;
}

export interface ReplayInput {
  table: RoutingTable;
  /** The embedding of each test request's last user text, in test sample order. */
  vectors: readonly ArrayLike<number>[];
  outcomes: OutcomeMatrix;
  /** The candidates the router may use (adapters that failed the champion gate left out). */
  routable: readonly string[];
  smallest: string;
  largest: string;
}

/** The routing figures of efficacy.json, plus each request's choice (the test compares them with the gateway's). */
export function replayRouting(input: ReplayInput): { routing: EfficacyRouting; choices: string[] } {
  const n = input.vectors.length;
  const choices = input.vectors.map((vector, i) => {
    const selection = gatewaySelection(input.table, vector);
    if (!selection) throw new Error(`the routing table has no candidate for test sample ${i}'s cluster`);
    return selection.model_id;
  });
  const counts: Record<string, number> = {};
  for (const choice of choices) counts[choice] = (counts[choice] ?? 0) + 1;
  return {
    choices,
    routing: {
      always_largest: alwaysOne(input.outcomes, n, input.largest),
      always_smallest: alwaysOne(input.outcomes, n, input.smallest),
      routed: policyOutcome(input.outcomes, n, (i) => choices[i]!),
      oracle: policyOutcome(input.outcomes, n, (i) => oracleChoice(input.outcomes, input.routable, i)),
      choices: counts,
    },
  };
}

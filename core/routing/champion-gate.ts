/**
 * The adapter champion gate: a trained adapter is routed to only when it beat its own base model on
 * the validation split. Training that does not help must not take traffic from the model it was
 * meant to improve, whatever its test cells say (the test split is what the router ranks on, so it
 * cannot also be the evidence that the adapter is worth ranking).
 */
import type { ChampionGateVerdict, PerfIndex, PerfModel } from '../../schemas/generated/types';

export type { ChampionGateVerdict };

const quality = (model: PerfModel): string => {
  const estimate = model.validation_quality!;
  return `${estimate.mean.toFixed(3)} [${estimate.ci_low.toFixed(3)}, ${estimate.ci_high.toFixed(3)}] over n=${estimate.n ?? '?'}`;
};

/**
 * The verdict on one adapter model: it passes only when its mean validation quality is above its
 * base's (the index's model with the same `base_model` and no adapter). Without the numbers to
 * show that (no validation samples, base not evaluated) it fails: the burden of proof is on the adapter.
 */
export function championGateVerdict(adapter: PerfModel, models: readonly PerfModel[]): ChampionGateVerdict {
  const base = models.find((m) => !m.adapter && m.base_model === adapter.base_model);
  if (!base) return { passed: false, reason: `base model ${adapter.base_model} was not evaluated, so the adapter cannot be shown to beat it` };
  if (!adapter.validation_quality) return { passed: false, reason: 'the adapter has no validation-split quality (no validation samples were evaluated)', base_model_id: base.model_id };
  if (!base.validation_quality) return { passed: false, reason: `base model ${base.model_id} has no validation-split quality to compare with`, base_model_id: base.model_id };
  const numbers = { base_model_id: base.model_id, validation_quality: adapter.validation_quality.mean, base_validation_quality: base.validation_quality.mean };
  if (adapter.validation_quality.mean > base.validation_quality.mean) {
    return { passed: true, reason: `validation quality ${quality(adapter)} is above base ${base.model_id}'s ${quality(base)}`, ...numbers };
  }
  return { passed: false, reason: `validation quality ${quality(adapter)} is not above base ${base.model_id}'s ${quality(base)}`, ...numbers };
}

/** Verdicts for every adapter model of the index, by model id (base models are not gated). */
export function championGateVerdicts(models: readonly PerfModel[]): Map<string, ChampionGateVerdict> {
  return new Map(models.filter((m) => m.adapter).map((m) => [m.model_id, championGateVerdict(m, models)]));
}

/** Models the router must never pick, each with why: the adapters that failed the gate. */
export function excludedModels(perfIndex: PerfIndex): { model_id: string; reason: string }[] {
  return [...championGateVerdicts(perfIndex.models)].filter(([, verdict]) => !verdict.passed).map(([model_id, verdict]) => ({ model_id, reason: verdict.reason }));
}

/**
 * Fits every router family's per-prompt quality predictor in Python
 * (`python -m trainers.router_predictors fit`) and reads back their predictions and router files.
 * Python predicts; the selection rule and the evaluation stay here, in one implementation.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pythonExecutable, REPO_ROOT } from '../config';
import { TypedError } from '../errors';
import type { FamilyPredictions, RouteEvalSplits } from './offline-eval';

export interface FittedFamilies {
  families: FamilyPredictions[];
  /** family -> router file (npz) refitted on the whole train split, for publishing. */
  routerFiles: Record<string, string>;
  /** Remove the work directory (the router files live there). */
  dispose(): Promise<void>;
}

export interface FitOptions {
  models: readonly string[];
  clusters: number;
  seed: number;
  embeddingModel: string;
  /** Where progress lines of the fit go (stderr by default). */
  onProgress?: (line: string) => void;
}

/** `vectors[i]` and `scores[i]` (per model, in `options.models` order) belong to prompt i of the splits. */
export async function fitRouterFamilies(vectors: readonly Float32Array[], scores: readonly number[][], splits: RouteEvalSplits, options: FitOptions): Promise<FittedFamilies> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'llmloop-router-fit-'));
  const dispose = () => fs.rm(work, { recursive: true, force: true });
  try {
    const dim = vectors[0]!.length;
    const m = options.models.length;
    const flatVectors = new Float32Array(vectors.length * dim);
    vectors.forEach((v, i) => flatVectors.set(v, i * dim));
    const flatScores = Float32Array.from(scores.flat());
    await fs.writeFile(path.join(work, 'vectors.f32'), new Uint8Array(flatVectors.buffer));
    await fs.writeFile(path.join(work, 'scores.f32'), new Uint8Array(flatScores.buffer));
    await fs.writeFile(
      path.join(work, 'input.json'),
      JSON.stringify({
        models: options.models,
        dim,
        ...splits,
        clusters: options.clusters,
        seed: options.seed,
        embedding_model: options.embeddingModel,
      }),
    );
    await runPython(work, options.onProgress ?? ((line) => process.stderr.write(line + '\n')));

    const summary = JSON.parse(await fs.readFile(path.join(work, 'families.json'), 'utf8')) as {
      family: string;
      config: Record<string, unknown>;
      validation_brier: number;
    }[];
    const read = async (file: string, rows: number) => {
      const bytes = await fs.readFile(path.join(work, file));
      if (bytes.byteLength !== rows * m * 4) throw new TypedError('InvalidRequest', `${file} holds ${bytes.byteLength} bytes, expected ${rows} x ${m} float32`);
      return new Float32Array(new Uint8Array(bytes).buffer);
    };
    const families = await Promise.all(
      summary.map(async (s) => ({
        ...s,
        validation: await read(`${s.family}.validation.f32`, splits.validation.length),
        test: await read(`${s.family}.test.f32`, splits.test.length),
      })),
    );
    return {
      families,
      routerFiles: Object.fromEntries(summary.map((s) => [s.family, path.join(work, `${s.family}.npz`)])),
      dispose,
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}

function runPython(work: string, onProgress: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(pythonExecutable(), ['-m', 'trainers.router_predictors', 'fit', '--work', work], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let last = '';
    let pending = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (line.trim()) {
          last = line;
          onProgress(line);
        }
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) return resolve();
      const failure = (() => {
        try {
          return JSON.parse(pending || last) as {
            error?: string;
            message?: string;
          };
        } catch {
          return { message: pending || last };
        }
      })();
      reject(new TypedError('InvalidRequest', `trainers.router_predictors failed (exit ${code}): ${failure.message ?? 'no message'}`));
    });
  });
}

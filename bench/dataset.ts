/**
 * Dataset stage throughput on this host, each against a baseline measured in the same run:
 *  - templates: samples/s of the rules + templates engine (chunk -> drafts -> gates -> dedup -> split ->
 *    exports) over the parsed shared corpus, repeated to a few thousand chunks.
 *  - dedup: MinHash + LSH near-duplicate removal over N samples (default 100 000, half Chinese, one in ten
 *    a near-copy of another), against exact-hash dedup of the same samples (the cheap method that misses
 *    near-copies) and against naive pairwise Jaccard, measured on a subsample and scaled by n².
 *   node dist/bench/dataset.js [--samples N] [--corpus-copies K]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LocalArtifactStore, sha256Hex } from '../core/artifacts';
import { REPO_ROOT } from '../core/config';
import { buildDatasetLocally, NearDuplicateIndex, resolveBuildConfig } from '../core/dataset';
import { normalizeForComparison } from '../core/dataset/text';
import { parseDocument } from '../core/parse';
import type { DocumentModel } from '../schemas/generated/types';

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/**
 * A 20 000-word pseudo-vocabulary of random letter strings: unrelated synthetic texts share few
 * 3-grams, as unrelated real ones do (a small vocabulary would make every text a near-duplicate).
 */
const EN_WORDS = (() => {
  const rand = seeded(3);
  return Array.from({ length: 20000 }, () => Array.from({ length: 3 + Math.floor(rand() * 6) }, () => String.fromCharCode(97 + Math.floor(rand() * 26))).join(''));
})();
const ZH_CHARS = '的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质'.split('');

function randomText(rand: () => number, zh: boolean): string {
  const length = 120 + Math.floor(rand() * 300);
  let text = '';
  while (text.length < length) text += zh ? ZH_CHARS[Math.floor(rand() * ZH_CHARS.length)]! : `${EN_WORDS[Math.floor(rand() * EN_WORDS.length)]} `;
  return text;
}

function nearCopy(text: string, rand: () => number): string {
  const chars = [...text];
  for (let i = 0; i < Math.max(2, chars.length / 60); i++) chars[Math.floor(rand() * chars.length)] = '某';
  return chars.join('');
}


function seconds<T>(body: () => T): [T, number] {
  const started = performance.now();
  const value = body();
  return [value, (performance.now() - started) / 1000];
}

function benchDedup(n: number) {
  const rand = seeded(7);
  const texts: string[] = [];
  for (let i = 0; i < n; i++) texts.push(i % 10 === 9 ? nearCopy(texts[Math.floor(rand() * i)]!, rand) : randomText(rand, i % 2 === 0));
  const [minhashKept, minhashS] = seconds(() => {
    const index = new NearDuplicateIndex({ threshold: 0.7 });
    return texts.filter((t, i) => index.addIfNovel(String(i), t) === undefined).length;
  });
  const [exactKept, exactS] = seconds(() => {
    const seen = new Set<string>();
    return texts.filter((t) => {
      const key = sha256Hex(normalizeForComparison(t));
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    }).length;
  });
  const sub = Math.min(1000, n);
  const [, pairwiseSubS] = seconds(() => {
    const sets = texts.slice(0, sub).map((t) => {
      const s = normalizeForComparison(t);
      const grams = new Set<string>();
      for (let i = 0; i + 3 <= s.length; i++) grams.add(s.slice(i, i + 3));
      return grams;
    });
    let duplicates = 0;
    for (let i = 0; i < sets.length; i++) {
      for (let j = 0; j < i; j++) {
        let shared = 0;
        for (const g of sets[i]!) if (sets[j]!.has(g)) shared++;
        if (shared / (sets[i]!.size + sets[j]!.size - shared) >= 0.7) {
          duplicates++;
          break;
        }
      }
    }
    return duplicates;
  });
  const pairwiseEstimatedS = pairwiseSubS * (n / sub) ** 2;
  return {
    samples: n,
    near_copies_planted: Math.floor(n / 10),
    minhash_lsh: { seconds: +minhashS.toFixed(2), removed: n - minhashKept },
    exact_hash_baseline: { seconds: +exactS.toFixed(2), removed: n - exactKept },
    naive_pairwise_baseline: { seconds_measured_on: sub, seconds_estimated_for_all: +pairwiseEstimatedS.toFixed(0) },
    minhash_time_vs_exact_hash: +(minhashS / exactS).toFixed(2),
    pairwise_time_vs_minhash: +(pairwiseEstimatedS / minhashS).toFixed(0),
  };
}

async function benchTemplates(copies: number) {
  const corpusDir = path.join(process.env.LLMLOOP_SHARED_DIR ?? path.join(REPO_ROOT, '..', 'shared'), 'corpus', 'inputs');
  const parsed: DocumentModel[] = [];
  for (const format of ['docx', 'pptx', 'xlsx']) {
    for (const name of fs.readdirSync(path.join(corpusDir, format))) {
      try {
        parsed.push(await parseDocument(fs.readFileSync(path.join(corpusDir, format, name)), { path: name }));
      } catch {
        // unparseable inputs (encrypted) are the parse stage's concern
      }
    }
  }
  // Copies get their own source hash and a marker in every block, so they are distinct documents to the build.
  const documents = Array.from({ length: copies }, (_, k) =>
    parsed.map((d) => ({ ...d, source: { ...d.source, sha256: sha256Hex(`${k}:${d.source.sha256}`) }, blocks: d.blocks.map((b) => ({ ...b, text: b.text ? `${b.text} (copy ${k})` : b.text })) })),
  ).flat();
  const store = new LocalArtifactStore(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-dataset-')));
  // Only exact duplicates removed: the copies are near-duplicates by construction and would otherwise vanish.
  const config = resolveBuildConfig({ dedup_threshold: 1 });
  const started = performance.now();
  const result = await buildDatasetLocally(documents.map((d) => ({ input: d.source.sha256, value: d })), { config, store });
  const elapsed = (performance.now() - started) / 1000;
  fs.rmSync(store.root, { recursive: true, force: true });
  return { documents: documents.length, generated: result.manifest.counts.generated, accepted: result.manifest.counts.accepted, seconds: +elapsed.toFixed(2), samples_per_second: Math.round(result.manifest.counts.generated / elapsed) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { samples: { type: 'string', default: '100000' }, 'corpus-copies': { type: 'string', default: '20' } } });
  const report = {
    date: new Date().toISOString(),
    host: `${os.cpus().length} cpus, node ${process.versions.node}`,
    templates: await benchTemplates(Number(values['corpus-copies'])),
    dedup: benchDedup(Number(values.samples)),
  };
  console.log(JSON.stringify(report, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

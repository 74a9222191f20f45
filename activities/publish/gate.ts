/**
 * The publish gate: thresholds on the fine-tuned model's evaluation, and/or beating named baselines (e.g. the no-LLM
 * floor "nearest-train") by a margin. Every RMSE here is the honest one (missing ratings counted as the worst error),
 * so a model cannot pass by dropping the ratings it is unsure of.
 */
import type { ModelEvaluation, PublishGate } from '../../lib/schemas/train';

export interface GateDecision {
  passed: boolean;
  /** One line per criterion, saying how it went. */
  reasons: string[];
}

const f4 = (v: number | null) => (v === null ? 'n/a' : v.toFixed(4));

export function checkGate(gate: PublishGate, model: ModelEvaluation, baselines: readonly ModelEvaluation[]): GateDecision {
  const reasons: string[] = [];
  let passed = true;
  const check = (ok: boolean, text: string) => {
    reasons.push(`${ok ? 'pass' : 'FAIL'}: ${text}`);
    if (!ok) passed = false;
  };
  let criteria = 0;
  if (gate.minRougeLsum !== undefined) {
    criteria += 1;
    check(model.rougeLsum !== null && model.rougeLsum >= gate.minRougeLsum, `ROUGE-Lsum ${f4(model.rougeLsum)} ≥ ${gate.minRougeLsum}`);
  }
  if (gate.maxRmse !== undefined) {
    criteria += 1;
    check(model.ratingsRmse !== null && model.ratingsRmse <= gate.maxRmse, `ratings RMSE ${f4(model.ratingsRmse)} ≤ ${gate.maxRmse}`);
  }
  if (gate.minFormatCompliance !== undefined) {
    criteria += 1;
    check(model.formatCompliance >= gate.minFormatCompliance, `format compliance ${model.formatCompliance.toFixed(4)} ≥ ${gate.minFormatCompliance}`);
  }
  if (gate.minCoverage !== undefined) {
    criteria += 1;
    const c = model.coverage ?? null;
    check(c !== null && c >= gate.minCoverage, `ratings coverage ${f4(c)} ≥ ${gate.minCoverage}`);
  }
  const margin = gate.beatMargin ?? 0;
  const by = margin > 0 ? ` by ${margin}` : '';
  const beat = gate.beatBaseline === undefined ? [] : Array.isArray(gate.beatBaseline) ? gate.beatBaseline : [gate.beatBaseline];
  for (const name of beat) {
    criteria += 1;
    const b = baselines.find((x) => x.model === name);
    if (!b) {
      check(false, `baseline "${name}" was not evaluated (have: ${baselines.map((x) => x.model).join(', ') || 'none'})`);
      continue;
    }
    let compared = 0;
    // A baseline without text (train-mean) is beaten on ratings only; one without ratings on text only.
    if (b.rougeLsum !== null) {
      compared += 1;
      check(model.rougeLsum !== null && model.rougeLsum >= b.rougeLsum + margin && model.rougeLsum > b.rougeLsum, `ROUGE-Lsum ${f4(model.rougeLsum)} > ${b.model} ${f4(b.rougeLsum)}${by}`);
    }
    if (b.ratingsRmse !== null) {
      compared += 1;
      check(model.ratingsRmse !== null && model.ratingsRmse <= b.ratingsRmse - margin && model.ratingsRmse < b.ratingsRmse, `ratings RMSE ${f4(model.ratingsRmse)} < ${b.model} ${f4(b.ratingsRmse)}${by}`);
    }
    if (compared === 0) check(false, `baseline "${name}" has neither a ROUGE-Lsum nor an RMSE to beat`);
  }
  if (criteria === 0) check(false, 'no gate configured (set publish.gate)');
  return { passed, reasons };
}

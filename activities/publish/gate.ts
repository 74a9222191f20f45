/** The publish gate: thresholds on the fine-tuned model's evaluation, and/or beating a named baseline. */
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
  if (gate.beatBaseline !== undefined) {
    criteria += 1;
    const b = baselines.find((x) => x.model === gate.beatBaseline);
    if (!b) check(false, `baseline "${gate.beatBaseline}" was not evaluated (have: ${baselines.map((x) => x.model).join(', ') || 'none'})`);
    else {
      check(model.rougeLsum !== null && (b.rougeLsum === null || model.rougeLsum > b.rougeLsum), `ROUGE-Lsum ${f4(model.rougeLsum)} > ${b.model} ${f4(b.rougeLsum)}`);
      if (model.ratingsRmse !== null && b.ratingsRmse !== null) check(model.ratingsRmse < b.ratingsRmse, `ratings RMSE ${f4(model.ratingsRmse)} < ${b.model} ${f4(b.ratingsRmse)}`);
    }
  }
  if (criteria === 0) check(false, 'no gate configured (set publish.gate)');
  return { passed, reasons };
}

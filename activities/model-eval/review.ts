/**
 * The human review page: one self-contained HTML file (inline CSS and script, no external assets, so it opens from
 * S3, a laptop's disk or `twinflow train review --serve` alike) with every test example's input and reference, each
 * model's output side by side with its per-example scores, sortable by worst score. Pure: the activity feeds it.
 */
import type { Example, ModelEvaluation } from '../../lib/schemas/train';
import { promptOf } from '../gpu/generate';
import type { ExampleResult } from './score';

/** Where `twinflow train review --serve` puts the approve/reject form (a static copy has the commands instead). */
export const REVIEW_ACTIONS_MARKER = '<!--twinflow-review-actions-->';

export interface ReviewPageInput {
  title: string;
  examples: readonly Example[];
  /** Per model (report order): its evaluation and its per-example results. */
  models: ReadonlyArray<{ evaluation: ModelEvaluation; results: readonly ExampleResult[] }>;
  workflowId?: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const f4 = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(4));

/** The RMSE of one example's ratings (null: the prediction gave no comparable rating). */
export function exampleRmse(r: ExampleResult): number | null {
  const errs = Object.values(r.ratingErrors ?? {}).filter((e): e is number => typeof e === 'number' && Number.isFinite(e));
  if (!errs.length) return null;
  return Math.sqrt(errs.reduce((a, e) => a + e * e, 0) / errs.length);
}

/** The model whose scores "worst first" sorts by: the (first) fine-tuned model, else the first row. */
export function primaryModelIndex(models: ReviewPageInput['models']): number {
  const i = models.findIndex((m) => m.evaluation.kind === 'fine-tuned');
  return i >= 0 ? i : 0;
}

function inputOf(e: Example | undefined): string {
  if (!e) return '';
  return promptOf(e)
    .filter((m) => m.role !== 'system')
    .map((m) => m.content)
    .join('\n\n');
}

export function renderReviewPage(p: ReviewPageInput): string {
  const byId = new Map(p.examples.map((e) => [e.id, e]));
  const ids = p.examples.map((e) => e.id).filter((id) => p.models.some((m) => m.results.some((r) => r.id === id)));
  const results = p.models.map((m) => new Map(m.results.map((r) => [r.id, r])));
  const primary = primaryModelIndex(p.models);
  const head = p.models
    .map((m, i) => `<th>${esc(m.evaluation.model)}<br><small>${esc(m.evaluation.kind)} · ROUGE-Lsum ${f4(m.evaluation.rougeLsum)} · RMSE ${f4(m.evaluation.ratingsRmse)}</small><br><button type="button" class="sort" data-model="${i}" data-metric="rouge">worst ROUGE-Lsum first</button> <button type="button" class="sort" data-model="${i}" data-metric="rmse">worst RMSE first</button></th>`)
    .join('');
  const rows = ids.map((id, n) => {
    const ref = results.map((r) => r.get(id)).find(Boolean);
    const cells = p.models.map((_, i) => {
      const r = results[i]!.get(id);
      if (!r) return '<td class="missing" data-rouge="" data-rmse="">no result</td>';
      const rmse = exampleRmse(r);
      const flags = [r.compliant ? '' : `format: ${r.problem ?? 'not compliant'}`, r.error ? `error: ${r.error}` : ''].filter(Boolean);
      return (
        `<td data-rouge="${r.rougeLsum.fmeasure}" data-rmse="${rmse ?? ''}"><pre>${esc(r.prediction)}</pre>` +
        `<div class="score">ROUGE-Lsum <b>${f4(r.rougeLsum.fmeasure)}</b> · ratings RMSE <b>${rmse === null ? (r.referenceRatings ? 'missing' : 'n/a') : rmse.toFixed(4)}</b></div>` +
        (flags.length ? `<div class="flag">${esc(flags.join('; '))}</div>` : '') +
        '</td>'
      );
    });
    return `<tr data-id="${esc(id)}" data-order="${n}"><td><div class="id">${esc(id)}</div><pre>${esc(inputOf(byId.get(id)))}</pre></td><td><pre>${esc(ref?.reference ?? '')}</pre></td>${cells.join('')}</tr>`;
  });
  const wf = p.workflowId ?? '<workflow-id>';
  const actions = [
    REVIEW_ACTIONS_MARKER,
    '<section id="decide"><h2>Decide</h2><p>Approve or reject this run (the decision and the reason go into the model card):</p>',
    `<pre>bin/twinflow train approve ${esc(wf)} --reason "…"\nbin/twinflow train reject ${esc(wf)} --reason "…"</pre>`,
    `<p>or serve this page with <code>bin/twinflow train review ${esc(wf)} --serve</code> to decide here, or send the <code>review</code> Update from the Temporal Web UI with <code>{"decision": "approve", "reason": "…", "by": "you"}</code>.</p></section>`,
  ].join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Review: ${esc(p.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,Helvetica,Arial,sans-serif;margin:1rem;color:#222}
table{border-collapse:collapse;width:100%;table-layout:fixed}
th,td{border:1px solid #ccc;padding:.4rem;vertical-align:top;text-align:left}
th{background:#f4f4f4;position:sticky;top:0}
pre{white-space:pre-wrap;word-wrap:break-word;margin:0;font:13px/1.35 ui-monospace,Menlo,monospace}
.score{margin-top:.3rem;color:#555}.flag{color:#b00020;margin-top:.2rem}.id{font-weight:bold;margin-bottom:.2rem}
button{font-size:12px;margin-top:.2rem}#decide{margin-top:1.5rem}
</style></head><body>
<h1>Review: ${esc(p.title)}</h1>
<p>${ids.length} test examples. Scores per example: ROUGE-Lsum (higher is better) and ratings RMSE (lower is better). <button type="button" id="sort-worst" class="sort" data-model="${primary}" data-metric="rouge">sort by worst score (${esc(p.models[primary]?.evaluation.model ?? '')})</button> <button type="button" id="sort-id">original order</button></p>
<table id="review"><thead><tr><th>example: input</th><th>reference</th>${head}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
${actions}
<script>
(function(){
  var body=document.querySelector('#review tbody');
  function val(tr,m,metric){var td=tr.children[2+m];var v=td&&td.getAttribute('data-'+metric);
    // A missing score is the worst of all: first in "worst first".
    if(v===null||v==='')return metric==='rouge'?-Infinity:Infinity;return Number(v);}
  function sortBy(m,metric){var rows=[].slice.call(body.children);
    rows.sort(function(a,b){var x=val(a,m,metric),y=val(b,m,metric);var d=metric==='rouge'?x-y:y-x;
      return d||Number(a.getAttribute('data-order'))-Number(b.getAttribute('data-order'));});
    rows.forEach(function(r){body.appendChild(r);});document.body.setAttribute('data-sorted',metric+':'+m);}
  [].forEach.call(document.querySelectorAll('button.sort'),function(b){b.addEventListener('click',function(){sortBy(Number(b.getAttribute('data-model')),b.getAttribute('data-metric'));});});
  document.getElementById('sort-id').addEventListener('click',function(){var rows=[].slice.call(body.children);
    rows.sort(function(a,b){return Number(a.getAttribute('data-order'))-Number(b.getAttribute('data-order'));});rows.forEach(function(r){body.appendChild(r);});document.body.removeAttribute('data-sorted');});
})();
</script>
</body></html>
`;
}

import { describe, expect, it } from 'vitest';
import { evaluateModelInputSchema } from '../../../lib/schemas/model-eval';
import { evaluationSchema } from '../../../lib/schemas/train';

const base = { name: 'cmp', dataset: { manifestUri: 's3://b/datasets/x/1/manifest.json' }, endpoints: [{ model: 'gpt-4o-mini' }] };

describe('evaluateModel input: the no-LLM floors', () => {
  it('puts both floors in every comparison by default, as the train workflow does', () => {
    const floors = evaluateModelInputSchema.parse(base).evaluation.floors;
    expect(floors).toEqual(['train-mean', 'nearest-train']);
    expect(floors).toEqual(evaluationSchema.parse({}).floors);
  });

  it('takes a subset or none, and refuses a floor that does not exist', () => {
    expect(evaluateModelInputSchema.parse({ ...base, evaluation: { floors: ['nearest-train'] } }).evaluation.floors).toEqual(['nearest-train']);
    expect(evaluateModelInputSchema.parse({ ...base, evaluation: { floors: [] } }).evaluation.floors).toEqual([]);
    const bad = evaluateModelInputSchema.safeParse({ ...base, evaluation: { floors: ['majority-class'] } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['evaluation', 'floors', 0]);
  });
});

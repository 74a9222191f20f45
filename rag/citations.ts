/**
 * Citations in a generated answer: "[2]", "[1][3]", "[1, 4]", "[2-3]", "[Source 2]". Only numbers that name a source
 * given to the model count; others are reported as invalid, never silently mapped.
 */

export interface CitationScan {
  /** Source numbers cited, in order of first citation. */
  cited: number[];
  /** Numbers cited that name no source. */
  invalid: number[];
}

const BRACKET = /\[(?:sources?\s*)?(\d+(?:\s*(?:[-–]\s*\d+|,\s*(?:sources?\s*)?\d+))*)\]/gi;

export function scanCitations(answer: string, sourceCount: number): CitationScan {
  const cited: number[] = [];
  const invalid: number[] = [];
  const add = (n: number) => {
    const list = n >= 1 && n <= sourceCount ? cited : invalid;
    if (!list.includes(n)) list.push(n);
  };
  for (const m of answer.matchAll(BRACKET)) {
    for (const part of m[1]!.split(',')) {
      const range = /(\d+)\s*[-–]\s*(\d+)/.exec(part);
      if (range) {
        const [a, b] = [+range[1]!, +range[2]!];
        // A range wider than the sources is a typo or a year span, not a citation.
        if (b >= a && b - a < Math.max(sourceCount, 1)) for (let n = a; n <= b; n++) add(n);
        else add(a);
      } else {
        add(+part.replace(/\D+/g, ''));
      }
    }
  }
  return { cited, invalid };
}

/** The sources actually cited, in citation order. */
export function citedSources<S extends { n: number }>(answer: string, sources: readonly S[]): { cited: S[]; invalid: number[] } {
  const scan = scanCitations(answer, sources.length);
  const byN = new Map(sources.map((s) => [s.n, s]));
  return { cited: scan.cited.map((n) => byN.get(n)).filter((s): s is S => s !== undefined), invalid: scan.invalid };
}

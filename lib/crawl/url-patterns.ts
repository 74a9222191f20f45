/**
 * include/exclude filters for web sources: globs over the whole URL (`*` within a path segment, `**` across
 * segments, `{a,b}` alternatives; `?` is a literal question mark, since URLs use it for their query) or regular
 * expressions written `/.../flags`.
 */

export type UrlMatcher = (url: string) => boolean;

export function compileUrlPattern(pattern: string): RegExp {
  const re = /^\/(.+)\/([a-z]*)$/s.exec(pattern);
  if (re) return new RegExp(re[1]!, re[2]!.replace('g', '')); // 'g' would make test() stateful
  return globToRegExp(pattern);
}

/**
 * A glob as a regular expression anchored at both ends. Written here rather than taken from a path-glob library
 * because those treat "//" after the scheme as an empty path segment.
 */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  let inBraces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // "**/" may also match nothing, so "https://a.com/**/x" matches "https://a.com/x".
        if (glob[i + 2] === '/') {
          out += '(?:.*/)?';
          i += 2;
        } else {
          out += '.*';
          i += 1;
        }
      } else {
        out += '[^/]*';
      }
    } else if (c === '{') {
      inBraces++;
      out += '(?:';
    } else if (c === '}' && inBraces > 0) {
      inBraces--;
      out += ')';
    } else if (c === ',' && inBraces > 0) {
      out += '|';
    } else {
      out += c.replace(/[.+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^${out}$`);
}

/**
 * A URL passes when it matches some include pattern (or there are none) and no exclude pattern. Returns the pattern
 * that decided a rejection, for the report.
 */
export function urlFilter(include: string[] | undefined, exclude: string[] | undefined): (url: string) => { ok: true } | { ok: false; why: string } {
  const inc = (include ?? []).map((p) => ({ p, re: compileUrlPattern(p) }));
  const exc = (exclude ?? []).map((p) => ({ p, re: compileUrlPattern(p) }));
  return (url) => {
    if (inc.length && !inc.some(({ re }) => re.test(url))) return { ok: false, why: 'matches no include pattern' };
    const hit = exc.find(({ re }) => re.test(url));
    return hit ? { ok: false, why: `matches exclude pattern ${hit.p}` } : { ok: true };
  };
}

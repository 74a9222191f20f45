/** include/exclude globs (picomatch) over paths relative to a repository or folder root. */
import picomatch from 'picomatch';

export interface PathFilter {
  included(relPath: string): boolean;
  /** The exclude pattern a path matches, if any. */
  excludedBy(relPath: string): string | undefined;
  /**
   * The top-most directory of `relPath` that an exclude pattern covers (e.g. "a/node_modules" for
   * "a/node_modules/x/y.js"), so that a whole excluded directory is reported once.
   */
  excludedAncestor(relPath: string): { dir: string; pattern: string } | undefined;
}

export function pathFilter(include: string[], exclude: string[]): PathFilter {
  const inc = picomatch(include, { dot: true });
  const exc = exclude.map((p) => ({ p, m: picomatch(p, { dot: true }) }));
  const excludedBy = (rel: string) => exc.find(({ m }) => m(rel))?.p;
  return {
    included: (rel) => inc(rel),
    excludedBy,
    excludedAncestor(rel) {
      const parts = rel.split('/');
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        const pattern = excludedBy(dir);
        if (pattern) return { dir, pattern };
      }
      return undefined;
    },
  };
}

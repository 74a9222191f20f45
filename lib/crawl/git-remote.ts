/**
 * What a git remote URL says: a canonical form for document locations (no credentials, no ".git", forges in their
 * https form so ssh and https clones of one repository give the same docIds), a browsable URL for files on
 * GitHub/GitLab/Bitbucket, and the owner (the author of an LLM twin's own code).
 */

export interface GitRemote {
  /** The URL given to `git clone`. */
  cloneUrl: string;
  /** Canonical repository URL: document locations are `<canonical>#<path>`. */
  canonical: string;
  /** The owner (first path segment) on a hosted remote. */
  owner?: string;
  /** A browsable URL of a file at a commit, on the forges whose URL scheme is known. */
  browseUrl?: (commit: string, filePath: string) => string;
}

const FORGES: Record<string, (base: string, commit: string, p: string) => string> = {
  'github.com': (base, commit, p) => `${base}/blob/${commit}/${p}`,
  'gitlab.com': (base, commit, p) => `${base}/-/blob/${commit}/${p}`,
  'bitbucket.org': (base, commit, p) => `${base}/src/${commit}/${p}`,
};

export function parseGitRemote(url: string): GitRemote {
  const scp = /^([A-Za-z0-9._-]+)@([A-Za-z0-9.-]+):(.+)$/.exec(url);
  let scheme: string;
  let host: string;
  let repoPath: string;
  if (scp && !url.includes('://')) {
    scheme = 'ssh:';
    host = scp[2]!.toLowerCase();
    repoPath = scp[3]!;
  } else {
    const u = new URL(url);
    scheme = u.protocol;
    host = u.host.toLowerCase();
    repoPath = u.pathname; // kept percent-encoded, as file:// locations of the folder source are
  }
  repoPath = repoPath.replace(/\/+$/, '').replace(/\.git$/, '').replace(/^\/+/, '');

  if (scheme === 'file:') return { cloneUrl: url, canonical: `file:///${repoPath}` };

  const forge = FORGES[host];
  const canonical = forge ? `https://${host}/${repoPath}` : `${scheme}//${host}/${repoPath}`;
  const segments = repoPath.split('/').filter(Boolean);
  const remote: GitRemote = { cloneUrl: url, canonical };
  if (segments.length >= 2) remote.owner = segments[0];
  if (forge) remote.browseUrl = (commit, p) => forge(canonical, commit, p.split('/').map(encodeURIComponent).join('/'));
  return remote;
}

/** The URL with any password or token taken out, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1***@');
}

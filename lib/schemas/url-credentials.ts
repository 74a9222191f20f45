/**
 * Credentials embedded in URLs (https://user:token@host/...) are refused in workflow input: an input is kept in the
 * workflow history in plain text (and shown in the Web UI), so a secret in it is a secret leaked. Credentials belong
 * to the worker's configuration instead; each message says which setting. Free of imports and side effects, so the
 * schemas that workflow code imports can use it.
 */

/** What a URL carries before its host: 'password' (user:secret@), 'user' (user@, or a token used as the user name). */
export function urlCredentials(value: string): 'password' | 'user' | undefined {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return undefined; // not a URL: the schema's own URL check reports it
  }
  if (u.password) return 'password';
  return u.username ? 'user' : undefined;
}

const WHY = 'a URL with credentials (user:secret@) is refused in workflow input, which the workflow history keeps in plain text';

export const WEB_URL_CREDENTIALS = `${WHY}; the crawler reads pages that need no login: remove the user name and password from the URL`;

export const GIT_URL_CREDENTIALS =
  `${WHY}; give the worker the credentials instead: a git credential helper in the worker's git config ` +
  '(credential.helper, e.g. a GIT_ASKPASS script reading an environment variable), or an ssh key with ssh://git@host/owner/repo';

export const ENDPOINT_URL_CREDENTIALS =
  `${WHY}; put the API key in an environment variable of the worker and name it in apiKeyEnv (declared in TWINFLOW_API_KEYS)`;

/**
 * A git remote may not carry a secret: no password in any scheme, and no user name over http(s) (where it is a
 * token as often as not). ssh's plain user name (ssh://git@host/..., git@host:owner/repo) is no secret and stays.
 */
export function gitUrlHasCredentials(value: string): boolean {
  const found = urlCredentials(value);
  if (found === 'password') return true;
  return found === 'user' && /^https?:/i.test(value);
}

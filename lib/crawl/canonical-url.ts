/**
 * Canonical URLs: the identity of a web document (docId = docIdFor(canonicalUrl(url))), so that the same page
 * reached through different spellings is one document.
 */

/** Query parameters that only track the visitor; they never change the page. */
const TRACKING_PARAM = /^(utm_.+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|yclid|_ga|_gl)$/i;

/**
 * Lower-case scheme and host, no default port, no credentials, no fragment, query parameters sorted and without
 * tracking parameters, "/" as the root path (so `https://a.com` and `https://a.com/` are one page). Other paths keep
 * their trailing slash: `/docs` and `/docs/` may be different pages. Throws on a string that is not a URL.
 */
export function canonicalUrl(input: string | URL): string {
  const url = new URL(typeof input === 'string' ? input.trim() : input.href);
  // WHATWG URL parsing already lower-cases scheme and host, drops default ports and makes an empty path "/".
  url.hash = '';
  url.username = '';
  url.password = '';
  const params = [...url.searchParams].filter(([k]) => !TRACKING_PARAM.test(k));
  // Stable sort by key only: repeated keys keep their relative order, which can matter (?a=1&a=2).
  params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  url.search = params.length ? new URLSearchParams(params).toString() : '';
  return url.href;
}

/** canonicalUrl, or undefined for a string that is not an absolute http(s) URL. */
export function tryCanonicalHttpUrl(input: string, base?: string): string | undefined {
  try {
    const url = new URL(input.trim(), base);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return canonicalUrl(url);
  } catch {
    return undefined;
  }
}

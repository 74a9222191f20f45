import { describe, expect, it } from 'vitest';
import { canonicalUrl, tryCanonicalHttpUrl } from '../../../lib/crawl/canonical-url';
import { compileUrlPattern, urlFilter } from '../../../lib/crawl/url-patterns';

describe('canonicalUrl', () => {
  it('lower-cases scheme and host, drops default ports, credentials and the fragment', () => {
    expect(canonicalUrl('HTTPS://User:pw@Example.COM:443/Docs/Page#part')).toBe('https://example.com/Docs/Page');
    expect(canonicalUrl('http://example.com:80/a')).toBe('http://example.com/a');
    expect(canonicalUrl('http://example.com:8080/a')).toBe('http://example.com:8080/a');
  });

  it('treats the root with and without a slash as one page, but keeps other trailing slashes', () => {
    expect(canonicalUrl('https://example.com')).toBe(canonicalUrl('https://example.com/'));
    expect(canonicalUrl('https://example.com/docs/')).not.toBe(canonicalUrl('https://example.com/docs'));
  });

  it('sorts query parameters and removes tracking ones', () => {
    expect(canonicalUrl('https://e.com/p?z=1&utm_source=tw&a=2&fbclid=x&gclid=y&UTM_Medium=m')).toBe('https://e.com/p?a=2&z=1');
    expect(canonicalUrl('https://e.com/p?utm_campaign=x')).toBe('https://e.com/p');
    expect(canonicalUrl('https://e.com/p?b=2&a=1&b=1')).toBe('https://e.com/p?a=1&b=2&b=1'); // repeated keys keep their order
    expect(canonicalUrl('https://e.com/p?')).toBe('https://e.com/p');
  });

  it('rejects what is not an http(s) URL', () => {
    expect(() => canonicalUrl('not a url')).toThrow();
    expect(tryCanonicalHttpUrl('mailto:a@b.c')).toBeUndefined();
    expect(tryCanonicalHttpUrl('/rel/path', 'https://e.com/base/')).toBe('https://e.com/rel/path');
  });
});

describe('URL patterns', () => {
  it('matches globs against the whole URL: * within a segment, ** across segments', () => {
    const blog = compileUrlPattern('https://e.com/blog/*');
    expect(blog.test('https://e.com/blog/post')).toBe(true);
    expect(blog.test('https://e.com/blog/2024/post')).toBe(false);
    const deep = compileUrlPattern('https://e.com/blog/**');
    expect(deep.test('https://e.com/blog/2024/post')).toBe(true);
    expect(compileUrlPattern('**/docs/**').test('https://e.com/x/docs/y')).toBe(true);
    expect(compileUrlPattern('https://e.com/**/*.html').test('https://e.com/a.html')).toBe(true);
    expect(compileUrlPattern('https://e.com/{a,b}/*').test('https://e.com/b/x')).toBe(true);
    expect(compileUrlPattern('https://e.com/{a,b}/*').test('https://e.com/c/x')).toBe(false);
    // "?" is the query delimiter in URLs, so it is literal here.
    expect(compileUrlPattern('https://e.com/p?x=*').test('https://e.com/p?x=1')).toBe(true);
    expect(compileUrlPattern('https://e.com/p?x=1').test('https://e.com/pQx=1')).toBe(false);
    expect(compileUrlPattern('https://e.com/a.b').test('https://e.com/aXb')).toBe(false);
  });

  it('reads /.../flags as a regular expression', () => {
    expect(compileUrlPattern('/\\/post-\\d+$/').test('https://e.com/post-12')).toBe(true);
    expect(compileUrlPattern('/BLOG/i').test('https://e.com/blog/')).toBe(true);
    const g = compileUrlPattern('/a/g'); // a global flag would make test() alternate
    expect([g.test('a'), g.test('a')]).toEqual([true, true]);
  });

  it('filters by include then exclude and says why', () => {
    const f = urlFilter(['https://e.com/**'], ['**/private/**']);
    expect(f('https://e.com/a')).toEqual({ ok: true });
    expect(f('https://other.com/a')).toEqual({ ok: false, why: 'matches no include pattern' });
    expect(f('https://e.com/private/x')).toEqual({ ok: false, why: 'matches exclude pattern **/private/**' });
    expect(urlFilter(undefined, undefined)('https://any.where/')).toEqual({ ok: true });
  });
});

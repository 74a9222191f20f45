import { describe, expect, it } from 'vitest';
import { createSource, InvalidSourceConfigError } from '../../../lib/crawl';
import { DEFAULT_GIT_EXCLUDE, sourceConfigSchema, sourceListSchema } from '../../../lib/schemas/sources';
import { formatZodError } from '../../../lib/schemas/validate';

function problems(input: unknown, schema: { safeParse(v: unknown): { success: boolean; error?: unknown } } = sourceConfigSchema): string {
  const r = schema.safeParse(input);
  if (r.success) throw new Error('expected the input to be rejected');
  return formatZodError(r.error as Parameters<typeof formatZodError>[0]);
}

describe('source config schemas', () => {
  it('fills in the web defaults', () => {
    const web = sourceConfigSchema.parse({ type: 'web', id: 'blog', urls: ['https://e.com/'] });
    expect(web).toMatchObject({
      maxPages: 500,
      maxBytes: 5 * 1024 * 1024,
      timeoutMs: 15_000,
      maxRedirects: 5,
      perHostConcurrency: 2,
      perHostRps: 2,
      respectRobots: true,
      retry: { attempts: 4, baseDelayMs: 500 },
    });
  });

  it('names the field of a bad web config', () => {
    expect(problems({ type: 'web', id: 'blog' })).toBe('urls: a web source needs at least one of urls, sitemaps or feeds');
    expect(problems({ type: 'web', id: 'blog', urls: ['ftp://e.com/x'] })).toBe('urls.0: expected an absolute http(s) URL');
    expect(problems({ type: 'web', id: 'blog', urls: ['https://e.com/'], include: ['/[/'] })).toMatch(/^include\.0: invalid regular expression/);
    expect(problems({ type: 'web', id: 'blog', urls: ['https://e.com/'], maxPages: 0 })).toMatch(/^maxPages:/);
    expect(problems({ type: 'web', id: 'blog', urls: ['https://e.com/'], maxPage: 3 })).toMatch(/maxPage/);
    expect(problems({ type: 'web', id: 'has space', urls: ['https://e.com/'] })).toMatch(/^id: expected 1-64 letters/);
  });

  it('validates git and folder configs', () => {
    const git = sourceConfigSchema.parse({ type: 'git', id: 'code', url: 'git@github.com:me/repo.git' });
    expect(git).toMatchObject({ exclude: DEFAULT_GIT_EXCLUDE, maxFileBytes: 1024 * 1024 });
    expect(problems({ type: 'git', id: 'code', url: 'ext::sh -c evil' })).toMatch(/^url: expected a git URL/);
    expect(problems({ type: 'git', id: 'code', url: 'https://github.com/me/repo', ref: '--upload-pack=x' })).toMatch(/^ref:/);
    expect(problems({ type: 'folder', id: 'notes' })).toMatch(/^path:/);
    expect(problems({ type: 'ftp', id: 'x' })).toMatch(/^type:/);
  });

  it('requires unique ids in a source list', () => {
    const s = { type: 'folder', id: 'a', path: '/tmp' };
    expect(problems([s, { ...s }], sourceListSchema)).toBe('1.id: duplicate source id "a"');
    expect(problems([], sourceListSchema)).toMatch(/at least one source/);
  });

  it('createSource validates the config and names missing dependencies', () => {
    expect(() => createSource({ type: 'folder', id: 'a' } as never)).toThrow(InvalidSourceConfigError);
    expect(() => createSource({ type: 's3', id: 'inbox', prefix: 'inbox/' })).toThrow(/needs an S3 client/);
    expect(createSource({ type: 'folder', id: 'a', path: '/tmp' }).id).toBe('a');
  });
});

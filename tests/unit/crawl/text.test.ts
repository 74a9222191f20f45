import { describe, expect, it } from 'vitest';
import { toIsoDate } from '../../../lib/crawl/dates';
import { contentTypeOf, languageOf } from '../../../lib/crawl/file-types';
import { charsetOf, decodeText, declaredCharset, looksBinary, mimeOf } from '../../../lib/crawl/text-decoding';

const cp1252 = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

describe('decodeText', () => {
  it('prefers a BOM, then the header charset, then a declaration, then valid UTF-8, else windows-1252', () => {
    const utf8Bom = new Uint8Array([0xef, 0xbb, 0xbf, ...Buffer.from('é')]);
    expect(decodeText(utf8Bom, { headerCharset: 'windows-1252' })).toMatchObject({ text: 'é', source: 'bom' });
    expect(decodeText(cp1252('caf\xe9'), { headerCharset: 'iso-8859-1' })).toMatchObject({ text: 'café', encoding: 'windows-1252', source: 'header' });
    expect(decodeText(cp1252('<meta charset="windows-1252"><p>\x93x\x94</p>'))).toMatchObject({ text: '<meta charset="windows-1252"><p>“x”</p>', source: 'declaration' });
    expect(decodeText(new Uint8Array(Buffer.from('naïve ✓')))).toMatchObject({ text: 'naïve ✓', source: 'utf8-valid' });
    expect(decodeText(cp1252('na\xefve'))).toMatchObject({ text: 'naïve', encoding: 'windows-1252', source: 'fallback' });
  });

  it('decodes East Asian legacy encodings that a page declares', () => {
    const gbk = new Uint8Array([0xc4, 0xe3, 0xba, 0xc3]); // 你好 in GBK
    expect(decodeText(gbk, { headerCharset: 'gb2312' }).text).toBe('你好');
    const sjis = new Uint8Array([...Buffer.from('<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">'), 0x82, 0xa0]);
    expect(decodeText(sjis).text.endsWith('あ')).toBe(true);
  });

  it('ignores an unknown charset label and a UTF-16 declaration in ASCII bytes', () => {
    expect(decodeText(new Uint8Array(Buffer.from('é')), { headerCharset: 'x-made-up' }).source).toBe('utf8-valid');
    expect(decodeText(new Uint8Array(Buffer.from('<meta charset="utf-16"><p>é</p>'))).encoding).toBe('utf-8');
  });

  it('finds declarations in XML and http-equiv meta tags, skipping comments', () => {
    expect(declaredCharset(cp1252('<?xml version="1.0" encoding="ISO-8859-1"?><rss/>'))).toBe('ISO-8859-1');
    expect(declaredCharset(cp1252("<meta http-equiv='content-type' content='text/html;charset=koi8-r'>"))).toBe('koi8-r');
    expect(declaredCharset(cp1252('<!-- <meta charset="big5"> --><meta charset=utf-8>'))).toBe('utf-8');
    expect(declaredCharset(cp1252('<p>no declaration</p>'))).toBeUndefined();
  });

  it('parses Content-Type headers', () => {
    expect(mimeOf('Text/HTML; charset="UTF-8"')).toBe('text/html');
    expect(charsetOf('text/html; charset="UTF-8"')).toBe('UTF-8');
    expect(charsetOf('text/html')).toBeUndefined();
    expect(mimeOf(null)).toBe('');
  });

  it('sniffs binary content, but not UTF-16 text', () => {
    expect(looksBinary(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x00]))).toBe(true);
    expect(looksBinary(new Uint8Array(Buffer.from('plain text')))).toBe(false);
    expect(looksBinary(new Uint8Array([0xff, 0xfe, 0x61, 0x00]))).toBe(false);
  });
});

describe('toIsoDate', () => {
  it('normalises ISO, RFC 822 and date-only values to UTC ISO; a zoneless time counts as UTC', () => {
    expect(toIsoDate('2015-07-24T05:36:09+01:00')).toBe('2015-07-24T04:36:09.000Z');
    expect(toIsoDate('Mon, 06 Sep 2010 00:01:00 +0000')).toBe('2010-09-06T00:01:00.000Z');
    expect(toIsoDate('2020-09-21')).toBe('2020-09-21T00:00:00.000Z');
    expect(toIsoDate('2018-04-05T06:00')).toBe('2018-04-05T06:00:00.000Z');
    expect(toIsoDate('last Tuesday')).toBeUndefined();
    expect(toIsoDate('0001-01-01')).toBeUndefined();
    expect(toIsoDate(undefined)).toBeUndefined();
  });
});

describe('file types', () => {
  it('maps extensions to a language and a content type', () => {
    expect([languageOf('a/b.py'), contentTypeOf('a/b.py')]).toEqual(['python', 'text/x-source']);
    expect([languageOf('README.MD'), contentTypeOf('README.MD')]).toEqual(['markdown', 'text/markdown']);
    expect(contentTypeOf('x.ipynb')).toBe('application/x-ipynb+json');
    expect(contentTypeOf('docs/index.rst')).toBe('text/x-rst');
    expect([languageOf('Makefile'), contentTypeOf('Makefile')]).toEqual([undefined, 'text/plain']);
    expect(languageOf('.bashrc')).toBeUndefined();
  });
});

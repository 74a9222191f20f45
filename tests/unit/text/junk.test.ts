/**
 * Junk pages (lib/text/junk.ts) through the real cleaning path: every page of the hand-written corpus in
 * tests/fixtures/junk-pages is dropped with its kind, and none of the real articles (Readability's 49 test pages, the
 * demo site) nor the hand-written near-misses (articles *about* challenges, 404s, cookies, paywalls, signing in) is.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../lib/config';
import { cleanDocument, detectJunk, JUNK_KINDS, MAX_TEXT_CHARS, measureText, type CleanResult, type JunkKind } from '../../../lib/text';
import { loadWebPages, rawDoc, rawWebPage } from './fixtures';

const JUNK_DIR = path.resolve(PROJECT_ROOT, 'tests/fixtures/junk-pages');
const SITE_DIR = path.resolve(PROJECT_ROOT, 'examples/site');

interface JunkPage {
  file: string;
  kind: JunkKind;
  html: string;
}

function loadJunkPages(): JunkPage[] {
  return fs
    .readdirSync(JUNK_DIR)
    .filter((file) => file.endsWith('.html'))
    .sort()
    .map((file) => {
      const kind = /^([a-z_0-9]+)-\d+\.html$/.exec(file)?.[1];
      if (!kind || !(JUNK_KINDS as readonly string[]).includes(kind)) throw new Error(`${file}: not named <kind>-<n>.html with a junk kind`);
      return { file, kind: kind as JunkKind, html: fs.readFileSync(path.join(JUNK_DIR, file), 'utf8') };
    });
}

const corpus = loadJunkPages();

function isJunk(r: CleanResult): boolean {
  return !r.ok && (JUNK_KINDS as readonly string[]).includes(r.reason);
}

function describeResult(r: CleanResult): string {
  return r.ok ? 'kept' : `${r.reason}: ${r.detail}`;
}

/** An HTML document as the crawler hands it over, at a neutral address (no "/404" in it to help). */
function webDoc(html: string, n = 1) {
  return rawDoc(html, 'text/html', { url: `https://www.example.com/articles/story-${n}` });
}

describe('the junk corpus', () => {
  it('has at least two realistic pages of every kind', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(16);
    for (const kind of JUNK_KINDS) expect(corpus.filter((p) => p.kind === kind).length, kind).toBeGreaterThanOrEqual(2);
    for (const page of corpus) expect(page.html, page.file).toMatch(/<html[\s>][\s\S]*<\/html>\s*$/i);
  });

  it.each(corpus.map((p, i) => ({ ...p, n: i })))('drops $file as $kind', ({ html, kind, n }) => {
    const r = cleanDocument(webDoc(html, n));
    expect(r.ok ? 'kept' : r.reason, describeResult(r)).toBe(kind);
    if (!r.ok) {
      // The detail is one readable line naming the evidence (quoted words or named markup) and the other text left.
      expect(r.detail).not.toMatch(/\n/);
      expect(r.detail).toMatch(/^[\w ]+ \(("[^"]+"|title "[^"]+"|markup: ).*; \d+ characters of other text\)$/);
    }
  });

  it('names the vendor of a bot challenge and quotes its evidence', () => {
    const detail = (file: string) => {
      const r = cleanDocument(webDoc(corpus.find((p) => p.file === file)!.html));
      return r.ok ? '' : r.detail;
    };
    expect(detail('bot_challenge-1.html')).toMatch(/^Cloudflare challenge \("Just a moment\.\.\.", .*; markup: _cf_chl_opt, challenge-platform; \d+ characters/);
    expect(detail('bot_challenge-4.html')).toMatch(/^Akamai challenge .*"Reference #"/);
    expect(detail('bot_challenge-5.html')).toMatch(/^DataDome challenge .*markup: captcha-delivery\.com/);
    expect(detail('bot_challenge-6.html')).toMatch(/^PerimeterX challenge .*"Press & Hold"/);
    expect(detail('bot_challenge-7.html')).toMatch(/^hCaptcha challenge/);
    expect(detail('bot_challenge-8.html')).toMatch(/^reCAPTCHA challenge/);
  });

  it('finds bot challenges and soft 404s in Markdown and plain text too', () => {
    const challenge = 'Just a moment...\n\nChecking if the site connection is secure\n\nshop.example.com needs to review the security of your connection before proceeding.\n\nRay ID: 7d1e93b2fa6c0a41\n\nPerformance & security by Cloudflare\n';
    expect(cleanDocument(rawDoc(challenge, 'text/plain'))).toMatchObject({ ok: false, reason: 'bot_challenge' });
    const notFound = '# Page not found\n\nSorry, the page you are looking for could not be found. It may have been moved or deleted.\n\n[Go back to the homepage](/)\n';
    expect(cleanDocument(rawDoc(notFound, 'text/markdown', { path: 'site/missing.md' }))).toMatchObject({ ok: false, reason: 'soft_404' });
  });

  it('leaves source code alone, even code that quotes challenge pages', () => {
    const code = `// Retry when the CDN answers with its interstitial.\nexport const CHALLENGE = ['Just a moment...', 'Ray ID', 'Verify you are human', '_cf_chl_opt'];\nexport const isChallenge = (html: string) => CHALLENGE.some((s) => html.includes(s));\n`;
    expect(cleanDocument(rawDoc(code, 'text/x-source', { path: 'src/challenge.ts' })).ok).toBe(true);
  });
});

describe('the rules', () => {
  const tiny = (markdown: string, html?: string, title?: string) => detectJunk({ markdown, html, title });

  it('needs a strong signal: two weak ones are not enough', () => {
    // "Access denied" and "Ray ID" are weak; with the Akamai reference number (strong) the page is a challenge.
    expect(tiny('Access denied. Ray ID: 81f3a92c5d0e7b14')).toBeUndefined();
    expect(tiny('Access denied. Ray ID: 81f3a92c5d0e7b14. Reference #18.9c2e3b17.1718203344.4f1a7d2')).toMatchObject({ kind: 'bot_challenge' });
  });

  it('needs two signals: one strong phrase alone is not enough', () => {
    expect(tiny('Checking if the site connection is secure')).toBeUndefined();
    expect(tiny('Checking if the site connection is secure', undefined, 'Just a moment...')).toMatchObject({ kind: 'bot_challenge' });
  });

  it('needs the rest of the text to be small', () => {
    const junk = 'Just a moment...\n\nVerify you are human by completing the action below.\n\nRay ID: 81f3a92c5d0e7b14\n';
    expect(tiny(junk)).toMatchObject({ kind: 'bot_challenge' });
    const prose = 'Our volunteers restored the old mill race over three summers, clearing silt by hand and rebuilding the sluice gates from salvaged oak. '.repeat(4);
    expect(measureText(prose).chars).toBeLessThan(MAX_TEXT_CHARS);
    expect(tiny(`${junk}\n${prose}`)).toBeUndefined();
  });

  it('counts the markup of an empty shell only when its mount point is empty', () => {
    const shell = (root: string) => `<!doctype html><html><head><script type="module" src="/assets/index.js"></script></head><body>${root}</body></html>`;
    expect(tiny('', shell('<div id="root"></div>'))).toMatchObject({ kind: 'empty_shell' });
    expect(tiny('', shell('<div id="root"><p>Rendered on the server.</p></div>'))).toBeUndefined();
    // Only a mount point's own id: an empty header placeholder is not one.
    expect(tiny('', shell('<div id="app-header"></div><main id="content"></main>'))).toBeUndefined();
  });
});

describe('no false positives on real pages', () => {
  let results: { name: string; result: CleanResult }[] = [];

  beforeAll(() => {
    const pages = loadWebPages();
    results = pages.map((page) => ({ name: page.name, result: cleanDocument(rawWebPage(page.name, page.html)) }));
    for (const dir of fs.readdirSync(SITE_DIR).filter((d) => fs.existsSync(path.join(SITE_DIR, d, 'index.html'))).sort()) {
      const html = fs.readFileSync(path.join(SITE_DIR, dir, 'index.html'), 'utf8');
      results.push({ name: `examples/site/${dir}`, result: cleanDocument(rawWebPage(dir, html)) });
    }
    // 55 real pages are cleaned here; the limit leaves room for a machine shared with other builds.
  }, 120_000);

  it('flags none of the 49 Readability test pages nor the 6 demo site pages', () => {
    expect(results.length).toBe(49 + 6);
    expect(results.filter((r) => isJunk(r.result)).map((r) => `${r.name}: ${describeResult(r.result)}`)).toEqual([]);
  });

  it('flags none of them even when only the opening of the article is left beside the whole raw page', () => {
    // What reader view leaves when it extracts too little: the first 1,000 characters of the article, with every
    // phrase and piece of markup of the raw page (consent managers, login links, reCAPTCHA forms) still searched.
    const pages = loadWebPages();
    const flagged: string[] = [];
    for (const page of pages) {
      const r = results.find((x) => x.name === page.name)!.result;
      if (!r.ok) continue;
      const verdict = detectJunk({ title: r.doc.title, markdown: r.doc.markdown.slice(0, 1000), html: page.html, url: r.doc.url });
      if (verdict) flagged.push(`${page.name}: ${verdict.kind}: ${verdict.detail}`);
    }
    expect(flagged).toEqual([]);
  });
});

/** Paragraphs of an HTML article page. */
function article(title: string, paragraphs: string[], extra = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body>
<header><a href="/">Field Notes</a> <a href="/login">Log in</a></header>
<main><article><h1>${title}</h1>${paragraphs.map((p) => `<p>${p}</p>`).join('\n')}${extra}</article></main>
<footer><p>© 2024 Field Notes</p></footer></body></html>`;
}

/**
 * Articles that use the junk pages' own words. Each is checked twice: the whole article is kept, and its junk
 * phrases alone (the quoted sentences) are detected, so the test fails if the article stops exercising the rule.
 */
const NEAR_MISSES: { name: string; kind: JunkKind; html: string; core: string; coreHtml?: string; coreTitle?: string }[] = [
  {
    name: 'an article about Cloudflare bot challenges',
    kind: 'bot_challenge',
    html: article('How Cloudflare decides you might be a bot', [
      'If you scrape the web for long enough you will meet the page that says "Just a moment..." and then "Checking if the site connection is secure". It is Cloudflare\'s managed challenge, and it is served with a 200 status code, which is why naive crawlers happily store it as content.',
      'The challenge runs a script from /cdn-cgi/challenge-platform/ that fingerprints the browser: canvas rendering, the timing of JavaScript engine features, whether the user agent matches the TLS handshake. When the score is uncertain the visitor is asked to "Verify you are human by completing the action below", which these days is usually a single Turnstile checkbox rather than a grid of traffic lights.',
      'Every such page carries a Ray ID in its footer, together with the line "Performance & security by Cloudflare". The Ray ID identifies the request in Cloudflare\'s logs, and site owners can look it up to see which rule fired. If you are blocked by mistake, sending the Ray ID to the site owner is the quickest way to get the rule fixed.',
      'For a crawler the right response is not to solve the challenge but to back off: slow down, honour robots.txt, identify yourself with a descriptive user agent and a contact address, and ask the site owner for an allowlist entry if you need the content regularly. Treat the challenge page as a failed fetch and try again tomorrow.',
    ]),
    core: 'Just a moment...\n\nChecking if the site connection is secure\n\nVerify you are human by completing the action below.\n\nRay ID: 7d1e93b2fa6c0a41\n\nPerformance & security by Cloudflare\n',
  },
  {
    name: 'a blog post about HTTP 404 handling',
    kind: 'soft_404',
    html: article('Handling 404 Not Found the right way', [
      'A 404 status code tells the client that the server has nothing at this address. The most common mistake we see in audits is the soft 404: a "Page not found" template served with a 200 status, which search engines and crawlers then index as a real page.',
      'Your not-found page should still be friendly. Say plainly that the page you are looking for doesn\'t exist, offer a search box, and link back to the homepage. But send it with the right status code, so that monitoring, caches and crawlers know the difference between a missing page and a page whose content happens to be an apology.',
      'In Express that means calling res.status(404) before rendering the template; in Nginx, the error_page directive keeps the status as long as you do not add an equals sign. Static hosts usually serve a file named 404.html with the right code automatically, but single-page apps that route on the client need a server-side fallback that knows which routes exist.',
      'Finally, watch your logs. A sudden rise in 404s after a redesign means links broke; a redirect map from the old URLs to the new ones fixes most of them, and the rest can get a 410 Gone if the content was removed on purpose.',
    ]),
    core: '# Page not found\n\nThe page you are looking for doesn\'t exist.\n\nGo back to the homepage.\n',
    coreTitle: 'Page not found',
  },
  {
    name: 'a cookie policy discussion of some length',
    kind: 'cookie_wall',
    html: article('Why cookie walls are a bad bargain', [
      'Most European readers know the routine: a full-screen box that says "We value your privacy", a paragraph about how we and our partners store and/or access information on a device, and two buttons, "Accept all" and "Reject all" if you are lucky, "Manage options" if you are not.',
      'Regulators have become less patient with these consent walls. The European Data Protection Board has said that access to a service should not be made conditional on accepting cookies that are not needed for the service itself, and several national authorities have fined publishers whose reject button was hidden two screens deep.',
      'There are honest alternatives. Contextual advertising needs no personal data at all and performs better than the industry long claimed. First-party analytics with short retention can be run without consent in some countries. And a plain subscription offer, presented after the reader has seen what the publication is worth, converts better than a wall that greets them before the first sentence.',
      'If you run a site, audit what your consent manager actually loads. We regularly find tag managers that fire a dozen third-party scripts before the visitor has clicked anything, which makes the whole banner decorative.',
    ]),
    core: 'We value your privacy\n\nWe and our partners store and/or access information on a device.\n\nAccept all\n\nReject all\n',
  },
  {
    name: 'a long article that ends with "Subscribe to our newsletter"',
    kind: 'paywall',
    html: article(
      'What we learned rebuilding a 1970s tape echo',
      [
        'The unit arrived in a cardboard box that smelled of cigarettes and machine oil. The tape loop had fused into a brittle ring, the pinch roller had turned to tar, and somebody had replaced a fuse with a length of solder. It was, in other words, a typical find.',
        'We started with the transport. The capstan motor still spun, but its bearings howled, so we cleaned and re-oiled them with a light synthetic oil. The pinch roller was beyond saving; a replacement cut from a rubber blank of the right durometer took an afternoon on the lathe and fixed the wow that had made every repeat wobble.',
        'The electronics were kinder. Apart from dried-out electrolytic capacitors in the power supply, which we replaced as a matter of course, the preamp and the record amplifier measured close to the factory figures. The playback heads needed demagnetising and a careful clean with isopropyl alcohol, and the erase head was fine.',
        'The hardest part was the tape itself. Modern tape is thinner and more flexible than the stock the machine was designed for, so we experimented with splice angles and loop lengths until the loop ran without skewing off the heads. A 45-degree splice made with proper splicing tape, burnished flat, was the one that survived a week of continuous running.',
        'Now it sounds the way we remember these machines sounding: dark, slightly unstable repeats that smear into each other when you turn the feedback up, and a spring reverb that is mostly there for charm. It is not a precise instrument, and that is the point.',
      ],
      '<aside class="newsletter"><h2>Subscribe to our newsletter</h2><p>One email a month with new restorations. Subscribe now for unlimited access to the archive, $5 per month, cancel anytime. Already a subscriber? Log in.</p></aside>',
    ),
    core: 'Subscribe to continue reading.\n\nSubscribe now for unlimited access to the archive, $5 per month, cancel anytime.\n\nAlready a subscriber? Log in.\n',
  },
  {
    name: 'a docs page titled "Sign in" with real instructions',
    kind: 'login_wall',
    html: article('Sign in', [
      'You can sign in to the console with your work email and password, or through your company\'s identity provider if your administrator has set up single sign-on. You must be signed in to create projects, invite teammates or view billing.',
      'To sign in with a password, open the console, enter your email address and click Next. If you forgot your password, use the reset link on the same screen; the email it sends is valid for one hour. After five failed attempts your account is locked for fifteen minutes.',
      'To sign in with SSO, click Continue with SSO and enter your company domain. You are redirected to your identity provider and back again; the first time, the console creates your account from the attributes your provider sends (email, name and groups).',
      'Sessions last twelve hours by default. Administrators can shorten them under Settings > Security, and can require a second factor for everyone in the organisation. If you use the CLI, run the login command once; it stores a token in your keychain and refreshes it automatically.',
    ]),
    core: 'Sign in to continue.\n\nForgot your password?\n',
    coreHtml: '<form><input type="email" name="email"><input type="password" name="password"></form>',
    coreTitle: 'Sign in',
  },
];

describe('no false positives on near-misses', () => {
  it.each(NEAR_MISSES)('keeps $name', ({ html }) => {
    const r = cleanDocument(webDoc(html));
    expect(r.ok, describeResult(r)).toBe(true);
    // Short enough that the rules decide, not the length cut-off alone.
    if (r.ok) expect(measureText(r.doc.markdown).chars).toBeLessThan(MAX_TEXT_CHARS);
  });

  it.each(NEAR_MISSES)('still detects the junk phrases of $name on their own', ({ kind, core, coreHtml, coreTitle }) => {
    expect(detectJunk({ markdown: core, html: coreHtml, title: coreTitle })).toMatchObject({ kind });
  });

  it('keeps a short page with a cookie banner, a Cloudflare script and a reCAPTCHA contact form', () => {
    const html = `<!doctype html><html lang="en"><head><title>Contact us | Hillside Pottery</title>
<script src="/cdn-cgi/challenge-platform/scripts/jsd/main.js"></script><script src="https://www.google.com/recaptcha/api.js" async defer></script></head><body>
<div id="onetrust-consent-sdk"><div id="onetrust-banner-sdk"><p>We use cookies to improve your experience. By clicking "Accept all", you agree to the storing of cookies on your device.</p><button>Accept all</button><button>Reject all</button><button>Manage preferences</button></div></div>
<main><h1>Contact us</h1><p>Our studio and shop are open Wednesday to Sunday, ten till five, at 14 Mill Lane. Classes run on Tuesday and Thursday evenings; beginners are welcome and all materials are included in the price.</p>
<p>For commissions, wholesale orders or questions about a class, write to us with the form below and we will answer within two working days.</p>
<form action="/contact" method="post"><input name="email" type="email"><textarea name="message"></textarea><div class="g-recaptcha" data-sitekey="6Lc-example"></div><button>Send</button></form></main>
</body></html>`;
    const r = cleanDocument(webDoc(html));
    expect(r.ok, describeResult(r)).toBe(true);
  });

  it('keeps a Markdown README about getting past "Just a moment..." pages', () => {
    const md = `# polite-fetch

A small fetch wrapper for crawlers that behave. When a site answers with Cloudflare's "Just a moment..." interstitial (the page that says "Checking if the site connection is secure" and shows a Ray ID), polite-fetch does not try to solve it: it records the Ray ID, waits with exponential backoff and retries later, at most three times a day per host.

## Usage

Create a client with your contact address in the user agent, then call get() as you would call fetch(). The result says whether the page was content, a challenge or an error, so your pipeline can decide what to store.

## Why not solve the challenge?

Because the site owner asked not to be crawled by software that cannot pass it. Ask for an allowlist entry instead; most owners say yes to a crawler that identifies itself and keeps its request rate low.
`;
    const r = cleanDocument(rawDoc(md, 'text/markdown', { path: 'README.md' }));
    expect(r.ok, describeResult(r)).toBe(true);
  });
});

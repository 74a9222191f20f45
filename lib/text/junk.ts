/**
 * Junk pages: what a crawler is served instead of the page it asked for, usually with HTTP 200, so that nothing before
 * the Clean step notices. A bot challenge ("Just a moment...", "Ray ID"), a login, cookie or paywall in front of the
 * content, a "page not found" served as a success (soft 404), a parked domain, or the empty shell of a JavaScript
 * app. Stored as articles, they poison retrieval and the twin's training data, so the cleaner drops them.
 *
 * The danger is the opposite mistake: dropping an article that *talks about* Cloudflare, CAPTCHAs, 404 errors,
 * cookies or subscriptions. So a page is junk only when all three hold for one kind:
 *
 * 1. at least one strong signal that the page displays: a phrase or piece of markup that the junk page itself uses
 *    ("Checking if the site connection is secure", `_cf_chl_opt`, "The page you are looking for doesn't exist", a
 *    password field), in the title, the markup or a short sentence (a heading, a button, a notice). The same phrase
 *    inside a long sentence is an article quoting it;
 * 2. at least two distinct signals in all, so one stray sentence is never enough;
 * 3. almost no other text: once the sentences that carry the evidence are taken out of the cleaned Markdown, fewer
 *    than the kind's budget of characters are left. A challenge page has a dozen words besides its stock phrases; an
 *    article that quotes them has paragraphs. Documents with more than MAX_TEXT_CHARS of cleaned text are never
 *    junk, whatever they contain.
 *
 * Signals are looked for in the title, the cleaned text and, for HTML, the page's own text (reader view often drops
 * the footer that holds a Ray ID, or the consent dialog that is the whole page) and its markup (scripts and ids of
 * the challenge and consent vendors, password fields, app mount points). Pure and deterministic.
 */
import { visibleText } from './visible-text';

export type JunkKind = 'bot_challenge' | 'login_wall' | 'cookie_wall' | 'paywall' | 'soft_404' | 'parked_domain' | 'empty_shell';

export const JUNK_KINDS: readonly JunkKind[] = ['bot_challenge', 'login_wall', 'cookie_wall', 'paywall', 'soft_404', 'parked_domain', 'empty_shell'];

export interface JunkInput {
  title?: string;
  /** The cleaned Markdown: what would be stored and embedded. */
  markdown: string;
  /** The raw page, for HTML documents. */
  html?: string;
  url?: string;
}

export interface JunkVerdict {
  kind: JunkKind;
  /** The evidence, in one line: `Cloudflare challenge ("Just a moment...", "Ray ID"; markup: _cf_chl_opt; 0 characters of other text)`. */
  detail: string;
}

/** Above this many visible characters of cleaned text a document is content, whatever phrases it contains. */
export const MAX_TEXT_CHARS = 3000;

interface Signal {
  /**
   * Where to look: `text` is what a reader sees (title, cleaned text, the page's text), `title` the title alone,
   * `markup` the raw HTML (scripts and attributes included), `url` the document's address.
   */
  in: 'text' | 'title' | 'markup' | 'url';
  pattern: RegExp;
  /** Strong signals are what the junk page itself says or contains; weak ones only corroborate. */
  strong?: boolean;
  /** Named in the detail instead of the matched words (markup is named, words are quoted). */
  label?: string;
  /** For bot challenges: whose challenge it is. */
  vendor?: string;
}

interface Rule {
  kind: JunkKind;
  /** What the detail calls it. */
  name: string;
  /** The most visible characters of cleaned text allowed outside the sentences that carry the evidence. */
  maxOtherChars: number;
  signals: Signal[];
}

const strong = (pattern: RegExp, extra: Partial<Signal> = {}): Signal => ({ in: 'text', pattern, strong: true, ...extra });
const weak = (pattern: RegExp, extra: Partial<Signal> = {}): Signal => ({ in: 'text', pattern, ...extra });
const markup = (pattern: RegExp, label: string, extra: Partial<Signal> = {}): Signal => ({ in: 'markup', pattern, label, ...extra });

/**
 * The rules, most specific first: a Cloudflare page says "enable JavaScript and cookies", a paywall has a "Log in"
 * link, a login page a cookie banner; the first rule that holds names the page.
 */
const RULES: Rule[] = [
  {
    // Interstitials of the bot-protection services. Their texts are fixed strings of the vendor, their markup loads
    // the vendor's challenge script; the only other text is a line such as "Waiting for example.com to respond".
    kind: 'bot_challenge',
    name: 'challenge',
    maxOtherChars: 400,
    signals: [
      strong(/\bjust a moment(?:\.\.\.)?/i, { vendor: 'Cloudflare' }),
      strong(/\bchecking (?:if the site connection is secure|your browser before accessing)\b/i, { vendor: 'Cloudflare' }),
      strong(/\bneeds to review the security of your connection before proceeding\b/i, { vendor: 'Cloudflare' }),
      strong(/\bplease complete the security check to access\b/i, { vendor: 'Cloudflare' }),
      strong(/\bperformance (?:&|and) security by cloudflare\b/i, { vendor: 'Cloudflare' }),
      strong(/\battention required!? \| cloudflare\b/i, { vendor: 'Cloudflare' }),
      // Cloudflare's block page (a firewall rule matched rather than a challenge to solve).
      strong(/\bsorry, you have been blocked\b/i, { vendor: 'Cloudflare' }),
      strong(/\bthis website is using a security service to protect itself\b/i, { vendor: 'Cloudflare' }),
      weak(/\bwhy have i been blocked\b|\byou are unable to access\b/i, { vendor: 'Cloudflare' }),
      weak(/\bray id\b/i, { vendor: 'Cloudflare' }),
      // The challenge's own scripts and form. The jsd script under /cdn-cgi/challenge-platform/ is also injected into
      // ordinary pages of Cloudflare sites, so that path alone is only weak.
      markup(/_cf_chl_opt\b/, '_cf_chl_opt', { strong: true, vendor: 'Cloudflare' }),
      markup(/\bcf-chl-|\bcf_chl_/, 'cf-chl', { strong: true, vendor: 'Cloudflare' }),
      markup(/\/cdn-cgi\/challenge-platform\//, 'challenge-platform', { vendor: 'Cloudflare' }),
      markup(/challenges\.cloudflare\.com\/turnstile|\bcf-turnstile\b/, 'Turnstile', { vendor: 'Cloudflare' }),
      // Akamai's edge "Access Denied": a reference number like #18.5e2f1002.1718000000.1a2b3c4d and an edgesuite link.
      weak(/\baccess denied\b/i, { vendor: 'Akamai' }),
      strong(/\byou don't have permission to access\b.{0,300}?\bon this server\b/i, { vendor: 'Akamai' }),
      strong(/\breference #\s?\d+\.[0-9a-f]+\.\d+\.[0-9a-f]+/i, { vendor: 'Akamai', label: 'Reference #' }),
      weak(/\berrors\.edgesuite\.net\b/i, { vendor: 'Akamai' }),
      // DataDome: a line of text and the captcha served from captcha-delivery.com.
      strong(/\bplease enable js and disable any ad ?blocker\b/i, { vendor: 'DataDome' }),
      markup(/captcha-delivery\.com/, 'captcha-delivery.com', { strong: true, vendor: 'DataDome' }),
      // PerimeterX / HUMAN: "Press & Hold", a block page that blames automation tools, and its px-captcha element.
      strong(/\bpress (?:&|and) hold\b/i, { vendor: 'PerimeterX' }),
      strong(/\baccess to this page has been denied\b/i, { vendor: 'PerimeterX' }),
      strong(/\b(?:we believe )?you are using automation tools\b/i, { vendor: 'PerimeterX' }),
      weak(/\bbefore we continue\b/i, { vendor: 'PerimeterX' }),
      weak(/\breference id:?\s*#?[0-9a-f]{8}-?[0-9a-f-]*/i, { vendor: 'PerimeterX', label: 'Reference ID' }),
      markup(/\bpx-captcha\b/, 'px-captcha', { strong: true, vendor: 'PerimeterX' }),
      markup(/\b_pxAppId\b|\bpx-cdn\.net\b|\bpx-cloud\.net\b/, 'PerimeterX script', { vendor: 'PerimeterX' }),
      // Imperva (Incapsula).
      strong(/\bincapsula incident id\b/i, { vendor: 'Imperva' }),
      markup(/_Incapsula_Resource/, '_Incapsula_Resource', { vendor: 'Imperva' }),
      // Any CAPTCHA wall: the words that ask the visitor to prove they are human, and the widgets. The widgets also sit
      // on ordinary contact and comment forms, so they only count as weak.
      strong(/\bverify (?:that )?you(?:'re| are) (?:a )?human\b/i),
      strong(/\b(?:confirm|prove) (?:that )?you(?:'re| are) (?:a )?human\b/i),
      strong(/\b(?:i'm|i am) not a robot\b/i),
      strong(/\bcomplete the (?:captcha|security check)\b/i),
      strong(/\b(?:unusual|suspicious) (?:traffic|activity) from your (?:computer )?network\b/i),
      strong(/\benable javascript and cookies to continue\b/i),
      weak(/\bare you a (?:robot|human)\b/i),
      weak(/\bnot a (?:robot|bot)\b/i),
      markup(/\bg-recaptcha\b|google\.com\/recaptcha\/|recaptcha\/api\.js/, 'g-recaptcha', { vendor: 'reCAPTCHA' }),
      markup(/\bh-captcha\b|hcaptcha\.com/, 'h-captcha', { vendor: 'hCaptcha' }),
    ],
  },
  {
    // Domains that serve registrar ads instead of a site: "this domain is for sale", "Related searches" link farms
    // fed by AdSense for Domains (caf.js) or the parking services' landers.
    kind: 'parked_domain',
    name: 'parked domain',
    maxOtherChars: 800,
    signals: [
      strong(/\b(?:this|the) domain(?: name)?(?: [a-z0-9.-]+\.[a-z]{2,})? (?:is|may be|might be) for sale\b/i),
      strong(/\bbuy this domain\b/i),
      strong(/\bdomain (?:name )?(?:is )?for sale\b/i),
      strong(/\b(?:this|the) (?:web ?page|domain|site) (?:is|was|has been) parked\b/i),
      strong(/\bparked (?:free|domain)\b/i),
      strong(/\bdomain parking\b/i),
      strong(/\bgenerated by the domain owner\b/i),
      weak(/\brelated (?:searches|links)\b/i),
      weak(/\bsponsored (?:listings|links)\b/i),
      weak(/\b(?:make an offer|inquire (?:about|now)|get this domain|(?:the )?owner of this domain)\b/i),
      weak(/\b(?:godaddy|sedo|dan\.com|afternic|hugedomains|namecheap|bodis|parkingcrew|above\.com|porkbun)\b/i),
      markup(/\/adsense\/domains\/caf\.js/, 'AdSense for Domains (caf.js)', { strong: true }),
      markup(/sedoparking|parkingcrew|bodis\.com|\bwindow\.park\b|parklogic/i, 'parking service script'),
    ],
  },
  {
    // A client-rendered app fetched without running its scripts: an empty mount point, a bundle and, at most, the
    // <noscript> message. The mount point has to be empty in the served HTML; server-rendered apps fill it.
    kind: 'empty_shell',
    name: 'empty JavaScript shell',
    maxOtherChars: 80,
    signals: [
      markup(
        /<(div|main|section)\b[^>]*\bid\s*=\s*["']?(?:root|app|__next|__nuxt|___gatsby|svelte|app-root|application|main-app|react-root|q-app)(?=["'\s>])[^>]*>\s*<\/\1\s*>|<app-root\b[^>]*>\s*<\/app-root\s*>/i,
        'empty app mount point',
        { strong: true },
      ),
      markup(/<script\b[^>]*\b(?:src\s*=|type\s*=\s*["']?module)/i, 'script bundle'),
      weak(/\b(?:you need to |please )?enable javascript to (?:run|use|view|continue|see)\b|\b(?:requires|needs) javascript\b|\bjavascript (?:is )?(?:required|disabled)\b|\bdoesn't work (?:properly )?without javascript\b/i),
      weak(/^\s*loading(?:\.\.\.)?\s*$/i),
    ],
  },
  {
    // "Page not found" served with HTTP 200. The title alone is a strong signal here ("404", "Page not found"); an
    // article about 404 handling has it too, but also the paragraphs that explain it.
    kind: 'soft_404',
    name: 'soft 404',
    maxOtherChars: 600,
    signals: [
      { in: 'title', pattern: /\b404\b|\bnot found\b|\bpage (?:does not|doesn't|no longer) exist\b/i, strong: true },
      strong(/\bpage not found\b/i),
      strong(
        /\bthe (?:page|content|article|file|resource|url|link) (?:that )?you(?:'re| are| were) (?:looking|searching) for (?:(?:could|can)(?:not|n't) be found|(?:does not|doesn't|no longer) exists?|(?:has been|may have been|might have been|was) (?:moved|removed|deleted|renamed)|is(?: no longer|n't| not) (?:available|here))\b/i,
      ),
      strong(/\b(?:we|i) (?:couldn't|could not|can't|cannot|can not) (?:seem to )?find (?:the|that|this|a) (?:page|url|content)\b/i),
      strong(/\b(?:that|this|the) page (?:can't|cannot|could not|couldn't) be found\b/i),
      strong(/\b(?:this|that|the requested) (?:page|url) (?:does not|doesn't|no longer|did not|didn't) exists?\b/i),
      weak(/\b404\b/),
      weak(/\b(?:oops|whoops|uh[- ]oh)\b/i),
      weak(/\b(?:go|return|head|take me) (?:back )?(?:to )?(?:the |our )?home ?page\b|\bback to home\b/i),
      weak(/\b(?:may|might) have been (?:moved|removed|deleted|renamed)\b|\bbroken link\b|\bmistyped\b/i),
      weak(/\bnothing (?:was )?found\b/i),
      // WordPress, Shopify and static-site themes mark their not-found template on <body>.
      markup(/<body\b[^>]*\bclass\s*=\s*["'][^"']*\b(?:error404|template-404|page-404|not-found)\b/i, 'a not-found page template'),
      { in: 'url', pattern: /\/(?:404|not[-_]?found|page[-_]not[-_]found)(?:\.html?)?\/?(?:[?#]|$)/i, label: 'a not-found address' },
    ],
  },
  {
    // The teaser of a paywalled article and the offer to subscribe. The teaser is real text but only a few
    // paragraphs, hence the larger budget; "Subscribe to our newsletter" under a full article is not a paywall.
    kind: 'paywall',
    name: 'paywall',
    maxOtherChars: 1500,
    signals: [
      strong(/\bsubscribe (?:now |today )?to (?:continue|keep) reading\b/i),
      strong(/\bto (?:continue|keep) reading,? (?:please )?(?:subscribe|sign in|log in|become a (?:subscriber|member))\b/i),
      strong(/\b(?:this|the) (?:article|story|content|post) is (?:only )?(?:available|reserved|exclusive)(?: only)? (?:to|for) (?:paying |premium |our )?(?:subscribers|members)\b/i),
      strong(/\byou(?:'ve| have) (?:reached|used) (?:your|all (?:of )?your) (?:limit of )?(?:\d+ )?(?:free )?(?:articles?|stories|reads)\b/i),
      strong(/\b(?:subscribe|sign up|register) (?:now |today )?(?:for|to get) (?:full|unlimited|complete) (?:digital )?access\b/i),
      strong(/\bunlock (?:this|the full) (?:article|story)\b/i),
      strong(/\bthe rest of this (?:article|story) is (?:for|available to) subscribers\b/i),
      weak(/\balready (?:a )?(?:subscriber|member)\b|\balready have an account\b/i),
      weak(/\bcancel (?:at )?any ?time\b/i),
      weak(/\$\d+(?:\.\d\d)? ?(?:per|a|\/) ?(?:month|week|year|mo)\b/i),
      weak(/\bsubscribe now\b|\bsubscription (?:plans?|options)\b/i),
      markup(/"isAccessibleForFree"\s*:\s*"?false/i, 'isAccessibleForFree: false'),
      markup(/\bclass\s*=\s*["'][^"']*\bpaywall|\bdata-paywall|\bid\s*=\s*["']paywall|tinypass|\bpiano\.io\b|\bpoool\b|\bpelcro\b/i, 'paywall markup'),
    ],
  },
  {
    // A sign-in form in place of the content.
    kind: 'login_wall',
    name: 'login wall',
    maxOtherChars: 600,
    signals: [
      strong(/\b(?:sign(?:ed)?|log(?:ged)?) ?(?:in|on) (?:(?:or|and) (?:sign up|register|create an account) )?(?:to|in order to) (?:continue|proceed|view|see|read|access|keep reading)\b/i),
      strong(/\byou (?:must|need to|have to) (?:be )?(?:sign(?:ed)?|log(?:ged)?) ?in\b/i),
      strong(/\b(?:sign|log) ?in required\b|\blogin required\b/i),
      markup(/<input\b[^>]*\btype\s*=\s*["']?password\b/i, 'a password field', { strong: true }),
      { in: 'title', pattern: /\b(?:sign|log) ?in\b|\blogin\b/i },
      weak(/\bforgot (?:your )?password\b/i),
      weak(/\b(?:don't|do not) have an account\b/i),
      weak(/\b(?:keep me|stay) (?:signed|logged) in\b|\bremember me\b/i),
      weak(/\bcontinue with (?:google|apple|facebook|microsoft|email|sso)\b|\bsign in with (?:google|apple|sso)\b/i),
    ],
  },
  {
    // A consent page that stands in front of the site (not a banner over an article: reader view removes banners,
    // and the article would be the other text). The strong phrases are the walls' own headings and the IAB TCF
    // purpose wording. Consent pages explain at length what the data is used for, hence the larger budget.
    kind: 'cookie_wall',
    name: 'cookie wall',
    maxOtherChars: 1000,
    signals: [
      strong(/\bbefore you continue(?: to [a-z]+)?\b/i),
      strong(/\bwe value your privacy\b/i),
      strong(/\bwe and our (?:\d+ )?(?:partners|vendors)\b/i),
      strong(/\bstore and\/or access information on a device\b/i),
      strong(/\b(?:accept|allow|agree to) (?:all )?cookies (?:to continue|before continuing)\b/i),
      strong(/\b(?:to continue|continue using)\b[^.]{0,40}\b(?:accept|agree to|consent to)\b[^.]{0,20}\bcookies\b/i),
      weak(/\baccept all\b/i),
      weak(/\breject all\b/i),
      weak(/\bmanage (?:privacy |cookie |your )?(?:settings|preferences|options|choices)\b/i),
      weak(/\blegitimate interest\b/i),
      weak(/\bpersonali[sz]ed (?:ads|advertising|content)\b/i),
      weak(/\bwe use cookies\b|\buses cookies\b/i),
      weak(/\bnon-personali[sz]ed\b|\bmore options\b|\b(?:privacy|cookie) (?:policy|settings|dashboard)\b/i),
      markup(/__tcfapi|consent\.(?:google|yahoo|youtube)\.com|\bguce\b|\bdidomi\b|qc-cmp2|fc-consent-root|sp_message_container|onetrust|cookiebot/i, 'consent manager'),
    ],
  },
];

/** Folds typographic quotes and ellipses to ASCII and collapses whitespace, so patterns are written once. */
function fold(text: string): string {
  return text
    .replace(/[\u2018\u2019\u02BC]/g, "'")
    .replace(/[\u201C\u201D]/g, '"')
    .replace(/\u2026/g, '...')
    .replace(/[\u00A0\s]+/g, ' ');
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', hellip: '…', rsquo: '’', lsquo: '‘', ldquo: '“', rdquo: '”', mdash: '—', ndash: '–', copy: '©' };

/** Tags that end a line of text: blocks, line breaks and form controls (a button's label is a line of its own). */
const BLOCK_TAG =
  /<\/?(?:address|article|aside|blockquote|body|br|button|dd|div|dl|dt|fieldset|figcaption|figure|footer|form|h[1-6]|header|hr|input|label|li|main|nav|noscript|ol|option|p|pre|section|select|table|td|textarea|th|tr|ul)\b[^>]*>/gi;

/** The visible lines of a raw page: head, scripts, styles and comments removed, tags turned into line breaks or spaces. */
function pageLines(html: string): string[] {
  const text = html
    .replace(/<head\b[\s\S]*?<\/head\s*>|<!--[\s\S]*?-->|<(script|style|template|svg)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(BLOCK_TAG, '\n')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&(?:#(\d+)|#x([0-9a-f]+)|([a-z]+));/gi, (entity, dec: string | undefined, hex: string | undefined, name: string | undefined) => {
      if (dec || hex) {
        const code = dec ? Number(dec) : parseInt(hex!, 16);
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ' ';
      }
      return ENTITIES[name!.toLowerCase()] ?? entity;
    });
  return text.split('\n');
}

/** The <title> of a raw page, for pages whose caller did not pass one. */
function htmlTitle(html: string): string | undefined {
  return /<title\b[^>]*>([\s\S]*?)<\/title\s*>/i.exec(html)?.[1];
}

/** Lines of text as sentences: folded, split after sentence punctuation, empty ones dropped. */
function toSentences(lines: string[]): string[] {
  return lines.flatMap((line) => fold(line).trim().split(/(?<=[.!?])\s+/)).filter(Boolean);
}

/**
 * Sentences up to this long are what a page displays: headings, buttons, notices, footer lines. Longer ones are
 * prose, and a junk phrase inside prose is a mention ('the page that says "Just a moment..."'), not the page itself.
 */
const SHORT_SENTENCE = 120;

/**
 * Whether a sentence of the cleaned text is the junk page's own wording rather than other text. Any sentence with a
 * strong phrase is (the consent wall's long purpose paragraph). A weak phrase ("404", "Accept all", "Ray ID") marks a
 * sentence only when the sentence is short; in a long one it is a mention ("a sudden rise in 404s after a redesign").
 */
function isEvidence(sentence: string, rule: Rule): boolean {
  return rule.signals.some(
    (s) => s.in === 'text' && (s.strong || sentence.length <= SHORT_SENTENCE) && s.pattern.test(sentence),
  );
}

interface Page {
  title: string;
  /** Sentences of the cleaned text. */
  text: string[];
  /** Sentences of the raw page (HTML only): reader view drops footers, dialogs and forms that carry the evidence. */
  raw: string[];
  html?: string;
  url: string;
}

interface Found {
  signal: Signal;
  /** The matched words, for text signals. */
  words?: string;
  /** Whether the page displays it: markup, the address, the title or a short sentence, not a mention in prose. */
  shown: boolean;
}

function find(signal: Signal, page: Page): Found | undefined {
  if (signal.in === 'markup') return page.html !== undefined && signal.pattern.test(page.html) ? { signal, shown: true } : undefined;
  if (signal.in === 'url') return signal.pattern.test(page.url) ? { signal, shown: true } : undefined;
  const title = signal.pattern.exec(page.title);
  if (title) return { signal, words: title[0].trim(), shown: true };
  if (signal.in === 'title') return undefined;
  let mention: Found | undefined;
  for (const sentence of [...page.text, ...page.raw]) {
    const m = signal.pattern.exec(sentence);
    if (!m) continue;
    if (sentence.length <= SHORT_SENTENCE) return { signal, words: m[0].trim(), shown: true };
    mention ??= { signal, words: m[0].trim(), shown: false };
  }
  return mention;
}

/** Quoted words, at most this many in a detail (the rest are counted). */
const MAX_QUOTES = 4;

function quote({ signal, words }: Found): string {
  if (signal.in === 'url') return signal.label ?? 'the address';
  let said = signal.label ?? words!;
  if (said.length > 60) said = `${said.slice(0, 60).replace(/\s+\S*$/, '')}...`;
  return signal.in === 'title' ? `title "${said}"` : `"${said}"`;
}

/** `Cloudflare challenge ("Just a moment...", "Ray ID"; markup: _cf_chl_opt; 60 characters of other text)` */
function describe(name: string, found: Found[], otherChars: number): string {
  const quotes = found.filter((f) => f.signal.in !== 'markup').map(quote);
  const marks = found.filter((f) => f.signal.in === 'markup').map((f) => f.signal.label!);
  const parts: string[] = [];
  if (quotes.length > 0) {
    const more = quotes.length - MAX_QUOTES;
    parts.push(quotes.slice(0, MAX_QUOTES).join(', ') + (more > 0 ? ` and ${more} more` : ''));
  }
  if (marks.length > 0) parts.push(`markup: ${marks.join(', ')}`);
  parts.push(`${otherChars} characters of other text`);
  return `${name} (${parts.join('; ')})`;
}

/** Who made a challenge page: the vendor with the most signals (markup vendors included). */
function vendorOf(found: Found[]): string | undefined {
  const counts = new Map<string, number>();
  for (const f of found) if (f.signal.vendor) counts.set(f.signal.vendor, (counts.get(f.signal.vendor) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
}

export function detectJunk(input: JunkInput): JunkVerdict | undefined {
  const text = toSentences(input.markdown.split('\n').map((line) => visibleText(line)));
  if (text.reduce((n, s) => n + s.length, 0) > MAX_TEXT_CHARS) return undefined;
  const page: Page = {
    title: fold(input.title ?? (input.html ? htmlTitle(input.html) ?? '' : '')).trim(),
    text,
    raw: input.html === undefined ? [] : toSentences(pageLines(input.html)),
    html: input.html,
    url: input.url ?? '',
  };

  for (const rule of RULES) {
    const found = rule.signals.map((signal) => find(signal, page)).filter((f): f is Found => f !== undefined);
    if (found.length < 2 || !found.some((f) => f.signal.strong && f.shown)) continue;

    const otherChars = text.filter((s) => !isEvidence(s, rule)).reduce((n, s) => n + s.length, 0);
    if (otherChars > rule.maxOtherChars) continue;

    const name = rule.kind === 'bot_challenge' ? `${vendorOf(found) ?? 'bot'} challenge` : rule.name;
    return { kind: rule.kind, detail: describe(name, found, otherChars) };
  }
  return undefined;
}

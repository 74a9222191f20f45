/** What a file's extension says about it: the language of source files and the contentType a document gets. */

const LANGUAGES: Record<string, string> = {
  md: 'markdown',
  mdx: 'markdown',
  markdown: 'markdown',
  rst: 'restructuredtext',
  txt: 'text',
  text: 'text',
  html: 'html',
  htm: 'html',
  py: 'python',
  ipynb: 'jupyter',
  ts: 'typescript',
  tsx: 'typescript',
  js: 'javascript',
  jsx: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  go: 'go',
  rs: 'rust',
  java: 'java',
  kt: 'kotlin',
  c: 'c',
  h: 'c',
  cpp: 'cpp',
  cc: 'cpp',
  hpp: 'cpp',
  cs: 'csharp',
  rb: 'ruby',
  php: 'php',
  swift: 'swift',
  scala: 'scala',
  sh: 'shell',
  bash: 'shell',
  sql: 'sql',
  yaml: 'yaml',
  yml: 'yaml',
  toml: 'toml',
  json: 'json',
};

const CONTENT_TYPES: Record<string, string> = {
  markdown: 'text/markdown',
  restructuredtext: 'text/x-rst',
  text: 'text/plain',
  html: 'text/html',
  jupyter: 'application/x-ipynb+json',
  json: 'application/json',
};

export function extensionOf(filePath: string): string {
  const base = filePath.slice(filePath.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

export function languageOf(filePath: string): string | undefined {
  return LANGUAGES[extensionOf(filePath)];
}

/** text/markdown, text/x-rst, text/plain, text/html, application/x-ipynb+json, or text/x-source for code. */
export function contentTypeOf(filePath: string): string {
  const lang = languageOf(filePath);
  return (lang && CONTENT_TYPES[lang]) ?? (lang ? 'text/x-source' : 'text/plain');
}

/** Prose, as opposed to code: the Clean step finds such a document's title in its text. */
export function isProse(filePath: string): boolean {
  return ['markdown', 'restructuredtext', 'text', 'html'].includes(languageOf(filePath) ?? 'text');
}

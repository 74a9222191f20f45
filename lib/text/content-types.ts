/**
 * Which cleaner a document goes through, from its MIME type (and, for code, which language to label its fence with).
 */

export type ContentKind = 'html' | 'markdown' | 'text' | 'source';

/** MIME types of structured text that are best read as code (a JSON file is code to a reader and a retriever). */
const SOURCE_TYPES: Record<string, string> = {
  'application/json': 'json',
  'application/ld+json': 'json',
  'application/xml': 'xml',
  'text/xml': 'xml',
  'application/javascript': 'javascript',
  'text/javascript': 'javascript',
  'application/typescript': 'typescript',
  'text/css': 'css',
  'application/yaml': 'yaml',
  'application/x-yaml': 'yaml',
  'text/yaml': 'yaml',
  'text/x-yaml': 'yaml',
  'application/toml': 'toml',
  'text/csv': 'csv',
  'application/x-sh': 'bash',
  'application/sql': 'sql',
};

const EXTENSION_LANGUAGES: Record<string, string> = {
  ts: 'typescript', tsx: 'tsx', mts: 'typescript', cts: 'typescript', js: 'javascript', jsx: 'jsx', mjs: 'javascript',
  cjs: 'javascript', py: 'python', rb: 'ruby', go: 'go', rs: 'rust', java: 'java', kt: 'kotlin', kts: 'kotlin',
  scala: 'scala', swift: 'swift', c: 'c', h: 'c', cc: 'cpp', cpp: 'cpp', cxx: 'cpp', hpp: 'cpp', hh: 'cpp', cs: 'csharp',
  php: 'php', sh: 'bash', bash: 'bash', zsh: 'bash', fish: 'fish', ps1: 'powershell', sql: 'sql', r: 'r', lua: 'lua',
  pl: 'perl', hs: 'haskell', ex: 'elixir', exs: 'elixir', erl: 'erlang', clj: 'clojure', dart: 'dart', m: 'objectivec',
  json: 'json', yaml: 'yaml', yml: 'yaml', toml: 'toml', xml: 'xml', html: 'html', css: 'css', scss: 'scss',
  vue: 'vue', svelte: 'svelte', proto: 'protobuf', tf: 'hcl', dockerfile: 'dockerfile', makefile: 'makefile',
  ini: 'ini', cfg: 'ini', gradle: 'groovy', groovy: 'groovy', zig: 'zig', nim: 'nim', ml: 'ocaml', jl: 'julia',
};

/** The bare MIME type: lower case, parameters (`; charset=utf-8`) removed. */
export function mimeType(contentType: string): string {
  return contentType.split(';')[0]!.trim().toLowerCase();
}

/** A file's language from its name (`Dockerfile`, `Makefile` and extensions), for the code fence's info string. */
export function languageFromPath(filePath: string | undefined): string | undefined {
  if (!filePath) return undefined;
  const name = filePath.split(/[\\/]/).pop()!.toLowerCase();
  if (name === 'dockerfile' || name === 'makefile') return name;
  const dot = name.lastIndexOf('.');
  return dot > 0 ? EXTENSION_LANGUAGES[name.slice(dot + 1)] : undefined;
}

export function classifyContentType(contentType: string, filePath?: string): { kind: ContentKind; language?: string } | undefined {
  const mime = mimeType(contentType);
  if (mime === 'text/html' || mime === 'application/xhtml+xml') return { kind: 'html' };
  if (mime === 'text/markdown' || mime === 'text/x-markdown') return { kind: 'markdown' };
  if (mime === 'text/plain') {
    // Folders and repositories often report Markdown files as plain text.
    if (filePath && /\.(md|markdown|mdx)$/i.test(filePath)) return { kind: 'markdown' };
    return { kind: 'text' };
  }
  if (mime === 'text/x-source' || mime.startsWith('text/x-')) return { kind: 'source', language: languageFromPath(filePath) };
  const language = SOURCE_TYPES[mime];
  if (language) return { kind: 'source', language };
  return undefined;
}

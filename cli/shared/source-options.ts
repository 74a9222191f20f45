/** The flags that name sources, shared by `ingest` and `sync` (one definition, so their help text cannot drift). */
import type { Command } from 'commander';
import { collect } from './options';

/** What the source flags parse to (commander's camel-cased option names). */
export interface SourceFlags {
  collection?: string;
  url: string[];
  sitemap: string[];
  feed: string[];
  folder: string[];
  git: string[];
}

export function addSourceOptions(command: Command): Command {
  return command
    .option('--collection <name>', 'target collection (default: twinflow)')
    .option('--url <url>', 'a web page (repeatable)', collect, [])
    .option('--sitemap <url>', 'a sitemap.xml or sitemap index (repeatable)', collect, [])
    .option('--feed <url>', 'an RSS or Atom feed (repeatable)', collect, [])
    .option('--folder <path>', 'a local folder of Markdown/text/HTML (repeatable)', collect, [])
    .option('--git <url>', 'a git repository, https:// or file:// (repeatable)', collect, []);
}

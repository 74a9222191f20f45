/**
 * `twinflow ask "question"`: retrieves, builds the context (small-to-big, compression) and streams the answer of the
 * configured LLM, then lists the sources it cites. Without an LLM it prints the retrieved context and says so.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../lib/config';
import { InputValidationError } from '../../lib/schemas/validate';
import type { AskRequest } from '../../rag/options';
import type { AskResult } from '../../rag/rag';
import { addRetrievalOptions, describeTrace, retrievalOptionsFromFlags, type RetrievalFlags } from './search';

interface AskFlags extends RetrievalFlags {
  smallToBig?: boolean;
  budget?: string;
  compression?: boolean;
  temperature?: string;
  trace?: boolean;
}

export function askRequestFromFlags(question: string, f: AskFlags): AskRequest {
  const budget = f.budget === undefined ? undefined : Number(f.budget);
  if (budget !== undefined && !Number.isInteger(budget)) throw new InputValidationError(`--budget: expected a whole number of tokens, got ${JSON.stringify(f.budget)}`);
  const temperature = f.temperature === undefined ? undefined : Number(f.temperature);
  return {
    question,
    ...retrievalOptionsFromFlags(f),
    ...(f.smallToBig !== undefined && { smallToBig: f.smallToBig }),
    ...(f.compression === false ? { compression: false } : budget !== undefined ? { compression: { maxTokens: budget } } : {}),
    ...(temperature !== undefined && { temperature }),
  };
}

export function formatSources(r: AskResult, withText: boolean): string {
  const cited = new Set(r.citations.map((s) => s.n));
  return r.sources
    .map((s) => {
      const mark = r.generated ? (cited.has(s.n) ? '*' : ' ') : '';
      const head = `${mark}[${s.n}] ${s.title ?? s.location}  ${s.url ?? s.location}${s.headingPath ? `  § ${s.headingPath}` : ''}`;
      return withText ? `${head}\n${s.text.trim()}\n` : head;
    })
    .join('\n');
}

export function registerAskCommand(program: Command): void {
  const cmd = program
    .command('ask')
    .description('answer a question from the feature store, with citations (streams the answer, then the sources)')
    .argument('<question...>', 'the question');
  addRetrievalOptions(cmd)
    .option('--small-to-big', 'give the model the parent section of each matched chunk')
    .option('--no-small-to-big', 'give the model the matched chunks only')
    .option('--budget <tokens>', 'context token budget for prompt compression (default RAG_CONTEXT_TOKENS)')
    .option('--no-compression', 'never drop sentences from the context')
    .option('--temperature <t>', 'sampling temperature of the answer (default 0.2)')
    .option('--trace', 'print what each retrieval step did')
    .action(async (words: string[], flags: AskFlags) => {
      const config = loadConfig();
      const request = askRequestFromFlags(words.join(' '), flags);
      const { createRagFromConfig } = await import('../../rag/from-config');
      const { rag, close } = await createRagFromConfig(config);
      const controller = new AbortController();
      const onSigint = () => controller.abort(new Error('interrupted'));
      process.once('SIGINT', onSigint);
      try {
        const events = rag.askStream(request, controller.signal);
        let result: AskResult | undefined;
        for await (const ev of events) {
          if (ev.type === 'delta' && !flags.json) process.stdout.write(ev.text);
          if (ev.type === 'done') result = ev.result;
        }
        if (!result) return;
        if (flags.json) {
          console.log(JSON.stringify(result, null, 2));
          return;
        }
        if (result.generated) process.stdout.write('\n');
        if (result.message) console.log(`${result.generated ? '\n' : ''}${result.message}`);
        const c = result.compression;
        const compression = c && c.tokensAfter < c.tokensBefore ? ` (context compressed from ${c.tokensBefore} to ${c.tokensAfter} tokens)` : '';
        console.log(`\nSources${result.generated ? ' (* = cited)' : ''}${compression}:`);
        console.log(formatSources(result, !result.generated) || '(none)');
        if (result.invalidCitations.length) console.log(`\nwarning: the answer cites sources that do not exist: ${result.invalidCitations.map((n) => `[${n}]`).join(' ')}`);
        if (flags.trace) console.log(`\n${describeTrace(result.trace).join('\n')}`);
      } finally {
        process.off('SIGINT', onSigint);
        await close();
      }
    });
}

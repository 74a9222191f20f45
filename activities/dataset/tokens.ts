/**
 * Token lengths of whole conversations in the base model's tokenizer, for the max_seq_length filter and the
 * dataset statistics. The conversation is rendered with the model's own chat template (Jinja, from
 * tokenizer_config.json or chat_template.jinja) when the tokenizer folder has one, so the count is what the trainer
 * will see; without a template, contents are counted plus a small per-message allowance for role markers.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Template } from '@huggingface/jinja';
import { type LoadTokenizerOptions, loadTokenizer } from '../../lib/text/tokenizer';
import type { ChatMessage } from '../../lib/schemas/train';

/** Role markers and separators cost a few tokens per message in common chat templates (Llama 3: 5, ChatML: 4). */
export const UNTEMPLATED_TOKENS_PER_MESSAGE = 6;

export interface ConversationTokenCounter {
  /** Where the tokenizer came from (folder or Hub id). */
  source: string;
  /** Whether the model's chat template renders the conversation (else contents + allowance). */
  templated: boolean;
  count(messages: readonly ChatMessage[]): number;
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function tokenText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return '';
}

/** The chat template of a tokenizer folder, if any (tokenizer_config.json, else chat_template.jinja). */
export function readChatTemplate(dir: string): { template: string; bos: string; eos: string } | undefined {
  const cfg = readJson(path.join(dir, 'tokenizer_config.json')) ?? {};
  let template: string | undefined;
  const t = cfg.chat_template;
  if (typeof t === 'string') template = t;
  else if (Array.isArray(t)) {
    const entry = (t as Array<{ name?: string; template?: string }>).find((x) => x.name === 'default') ?? t[0];
    template = entry?.template;
  }
  if (!template) {
    const file = path.join(dir, 'chat_template.jinja');
    if (fs.existsSync(file)) template = fs.readFileSync(file, 'utf8');
  }
  return template ? { template, bos: tokenText(cfg.bos_token), eos: tokenText(cfg.eos_token) } : undefined;
}

export async function loadConversationTokenCounter(
  source: string,
  opts: LoadTokenizerOptions & { chatTemplate?: string } = {},
): Promise<ConversationTokenCounter> {
  const tok = await loadTokenizer(source, opts);
  const local = fs.existsSync(tok.source) ? tok.source : undefined;
  const found = opts.chatTemplate ? { template: opts.chatTemplate, bos: '', eos: '' } : local ? readChatTemplate(local) : undefined;
  if (found) {
    const template = new Template(found.template);
    const render = (messages: readonly ChatMessage[]) =>
      template.render({
        messages: messages.map((m) => ({ ...m })),
        bos_token: found.bos,
        eos_token: found.eos,
        add_generation_prompt: false,
        // Llama 3.1 puts a date in its system turn; a fixed one keeps counts reproducible (raise_exception and
        // strftime_now are built into the renderer).
        date_string: '26 Jul 2024',
      });
    try {
      render([
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
      ]);
      return { source: tok.source, templated: true, count: (messages) => tok.count(render(messages)) };
    } catch {
      // A template that needs features this renderer lacks: fall through to the allowance.
    }
  }
  return {
    source: tok.source,
    templated: false,
    count: (messages) => messages.reduce((a, m) => a + tok.count(m.content) + UNTEMPLATED_TOKENS_PER_MESSAGE, 1),
  };
}

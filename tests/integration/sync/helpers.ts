/** A small corpus on disk for sync tests: Markdown notes with distinct topics and several sections each. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createDeps, type Deps } from '../../../activities/deps';
import type { Config } from '../../../lib/config';
import type { ChunkPayload } from '../../../lib/vectorstore/types';

export const TOPICS = [
  ['axolotl', 'Axolotls regrow limbs through a blastema of dedifferentiated cells that rebuilds the missing structure'],
  ['lighthouse', 'The lighthouse keeper trims the wick at dusk and logs every passing ship in a leather-bound ledger'],
  ['sourdough', 'A sourdough starter is a culture of wild yeast and lactobacilli fed with flour and water every day'],
  ['glacier', 'Glaciers carve U-shaped valleys as they grind bedrock under hundreds of metres of compacted ice'],
  ['violin', 'A violin bow is strung with horsehair rubbed with rosin so that it grips and releases the string'],
  ['beekeeping', 'Beekeepers smoke the hive entrance so that the guard bees miss the alarm pheromone of the colony'],
  ['typesetting', 'Hot-metal typesetting cast whole lines of type from molten lead on a Linotype machine'],
  ['orbit', 'A geostationary satellite orbits at about 35,786 kilometres, matching the rotation of the Earth'],
  ['tidepool', 'Tide pools shelter anemones, limpets and hermit crabs between the high and low water marks'],
  ['cartography', 'Mercator projection preserves angles but inflates the area of land masses far from the equator'],
  ['fermentation', 'Kimchi ferments as lactic acid bacteria turn the sugars of napa cabbage into sour acids'],
  ['volcano', 'Shield volcanoes grow from fluid basaltic lava flows that spread far before they cool'],
] as const;

/** A note of three sections; `variant` changes only the second section's text. */
export function noteText(topic: string, fact: string, variant = 0): string {
  const para = (n: number) => `${fact}. This is paragraph ${n} about the ${topic}, with enough words to make a real section of a real note. `.repeat(3);
  return [
    `# Notes on the ${topic}`,
    '',
    '## Background',
    '',
    para(1),
    '',
    '## Details',
    '',
    variant === 0 ? para(2) : `Revision ${variant}: the ${topic} chapter was rewritten. ${fact}, as the new field survey of ${2020 + variant} confirmed in detail. `.repeat(3),
    '',
    '## Summary',
    '',
    para(3),
    '',
  ].join('\n');
}

/** A one-paragraph note (a single chunk): for tests that need many loads but little embedding. */
export function writeShortNote(dir: string, topic: string, fact: string, variant = 0): string {
  const file = path.join(dir, `${topic}.md`);
  fs.writeFileSync(file, `# ${topic}\n\n${fact}.${variant ? ` Revised in edition ${variant}.` : ''} A short note about the ${topic}, kept for the archive.\n`);
  return file;
}

export function writeNote(dir: string, topic: string, fact: string, variant = 0): string {
  const file = path.join(dir, `${topic}.md`);
  fs.writeFileSync(file, noteText(topic, fact, variant));
  return file;
}

/** Every point of the collection (alias or physical), without vectors. */
export async function points(deps: Deps, collection: string): Promise<Array<{ id: string; payload: ChunkPayload }>> {
  const store = await deps.vectorStore();
  const out: Array<{ id: string; payload: ChunkPayload }> = [];
  for await (const p of store.scroll(collection)) out.push(p);
  return out;
}

/** A name unique to this run: the S3 state of a collection outlives the test's LanceDB folder. */
export function uniqueCollection(prefix: string): string {
  return `${prefix}_${process.pid.toString(36)}${Date.now().toString(36)}`;
}

export interface NotesFixture {
  /** Set by the fixture's beforeAll. */
  deps: Deps;
  /** The notes folder, `notes` written into it. */
  dir: string;
}

/**
 * The set-up of the folder-sync tests: a LanceDB folder of their own (emptied before and after), deps on `config`,
 * and a temp folder of `notes`; at the end the folder and the collection's S3 state are removed. Call it at the top
 * of a test file: it registers the file's first beforeAll and its last afterAll.
 */
export function notesFixture(config: Config, collection: string, notes: ReadonlyArray<readonly [string, string]>, name: string): NotesFixture {
  const fx = {} as NotesFixture;
  beforeAll(() => {
    fs.rmSync(config.vectorStore.lancedbUri, { recursive: true, force: true });
    fx.deps = createDeps(config);
    fx.dir = fs.mkdtempSync(path.join(os.tmpdir(), `twinflow-${name}-notes-`));
    for (const [topic, fact] of notes) writeNote(fx.dir, topic, fact);
  });
  afterAll(async () => {
    fs.rmSync(fx.dir, { recursive: true, force: true });
    await fx.deps.artifacts.deletePrefix(`state/${collection}/`);
    fs.rmSync(config.vectorStore.lancedbUri, { recursive: true, force: true });
  });
  return fx;
}

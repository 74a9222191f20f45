/**
 * One writer process of the LanceDB-on-S3 concurrency test: opens the shared database, prints "ready", waits for
 * "go" on stdin, then upserts `rounds` batches: its own points (ids no other writer uses) and a batch of shared ids
 * that the other writer upserts in the same round. Prints "done <n>" with the points it wrote.
 */
import { createInterface } from 'node:readline';
import { LanceDBStore } from '../../../lib/vectorstore/lancedb';
import { makePoint, vec } from '../../contract/points';

const [uri, collection, writer, roundsText, optionsJson] = process.argv.slice(2) as [string, string, string, string, string];
const rounds = Number(roundsText);
const store = new LanceDBStore({ uri, storageOptions: JSON.parse(optionsJson) as Record<string, string> });
await store.count(collection); // opens the table before the race starts
console.log('ready');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line === 'go') break;
let written = 0;
for (let r = 0; r < rounds; r++) {
  const own = Array.from({ length: 20 }, (_, i) => makePoint({ docId: `${writer}-${r}`, chunkIndex: i, vector: vec(i + r), text: `${writer} round ${r} chunk ${i}` }));
  const shared = Array.from({ length: 5 }, (_, i) => makePoint({ docId: `shared-${r}`, chunkIndex: i, vector: vec(i), text: `shared round ${r} by ${writer}` }));
  await store.upsert(collection, own);
  await store.upsert(collection, shared);
  written += own.length + shared.length;
}
console.log(`done ${written}`);
await store.close();
process.exit(0);

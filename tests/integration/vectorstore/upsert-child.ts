/**
 * A second worker process for the LanceDB concurrency test. It opens the store and prints "ready"; then, for each
 * round number read from stdin, it upserts that round's points (the same ids the parent writes in that round at
 * the same moment) and prints the round number back.
 */
import { createInterface } from 'node:readline';
import { LanceDBStore } from '../../../lib/vectorstore/lancedb';
import { makePoint, vec } from '../../contract/points';

const [uri, collection] = process.argv.slice(2) as [string, string];
const store = new LanceDBStore({ uri });
const batch = (k: number) => Array.from({ length: 10 }, (_, i) => makePoint({ docId: `shared-${k}`, chunkIndex: i, vector: vec(i + k), text: `child version ${k}` }));
await store.count(collection); // opens the table before the race starts
console.log('ready');
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'end') break;
  await store.upsert(collection, batch(Number(line)));
  console.log(line);
}
await store.close();
process.exit(0);

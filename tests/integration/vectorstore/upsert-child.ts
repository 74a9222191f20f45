/**
 * A second worker process for the LanceDB concurrency test: upserts the same ids as its siblings, many times at
 * once, into the table given on the command line. Prints "done" when finished.
 */
import { LanceDBStore } from '../../../lib/vectorstore/lancedb';
import { makePoint, vec } from '../../contract/points';

const [uri, collection, tag] = process.argv.slice(2) as [string, string, string];
const store = new LanceDBStore({ uri });
const batch = (k: number) => Array.from({ length: 10 }, (_, i) => makePoint({ docId: 'shared', chunkIndex: i, vector: vec(i + k), text: `${tag} version ${k}` }));
await Promise.all(Array.from({ length: 6 }, (_, k) => store.upsert(collection, batch(k))));
await store.close();
console.log('done');

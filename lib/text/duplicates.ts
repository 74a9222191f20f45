/**
 * Exact duplicate removal across a batch: the same cleaned text reached under two addresses (mirrors, print views,
 * `?utm=` variants a canonical link did not catch). The first document with a contentHash wins; later ones are
 * reported with the docId they duplicate, so the caller can log and skip them.
 */
import type { CleanDocument } from '../schemas/documents';

export interface DuplicateReport {
  droppedDocId: string;
  keptDocId: string;
  contentHash: string;
}

export class DuplicateFilter {
  private readonly firstByHash = new Map<string, string>();

  /** `seen` pre-loads hashes already kept (e.g. from an earlier batch of the same run): contentHash → docId. */
  constructor(seen?: Iterable<readonly [contentHash: string, docId: string]>) {
    for (const [hash, docId] of seen ?? []) this.firstByHash.set(hash, docId);
  }

  /** Records the document; returns the report when its text was already seen under another (or the same) docId. */
  check(doc: Pick<CleanDocument, 'docId' | 'contentHash'>): DuplicateReport | undefined {
    const kept = this.firstByHash.get(doc.contentHash);
    if (kept === undefined) {
      this.firstByHash.set(doc.contentHash, doc.docId);
      return undefined;
    }
    return { droppedDocId: doc.docId, keptDocId: kept, contentHash: doc.contentHash };
  }

  /** Splits a batch into the documents to keep (in order) and the reports of those dropped. */
  filter<T extends Pick<CleanDocument, 'docId' | 'contentHash'>>(docs: Iterable<T>): { kept: T[]; dropped: DuplicateReport[] } {
    const kept: T[] = [];
    const dropped: DuplicateReport[] = [];
    for (const doc of docs) {
      const report = this.check(doc);
      if (report) dropped.push(report);
      else kept.push(doc);
    }
    return { kept, dropped };
  }

  get size(): number {
    return this.firstByHash.size;
  }
}

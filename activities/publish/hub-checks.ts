/**
 * The checks around a Hub commit that keep a publish safe to retry:
 *
 * - visibility: an existing repository is public or private already; a model meant to be private is never pushed into
 *   a public one (createRepo's `private` applies only when it creates the repository);
 * - idempotence: each publish carries a marker line (the workflow run) in its commit message; if one of the latest
 *   commits carries it, a previous attempt committed and only lost its response, so the commit is not made again;
 *   otherwise the commit names the head it builds on (parentCommit), so a concurrent commit makes it fail and retry
 *   (and find the marker, or build on the new head) instead of racing.
 */
import { HubApiError, listCommits, modelInfo } from '@huggingface/hub';
import { ApplicationFailure } from '@temporalio/activity';

export interface HubCredentials {
  accessToken: string;
  hubUrl: string;
}

/** The line a publish's commit message carries: the same for every attempt of one workflow run. */
export function publishMarker(workflowId: string, runId: string): string {
  return `twinflow-publish: ${workflowId}/${runId}`;
}

/** Throws a non-retryable failure when a private model would go into a public repository. */
export async function checkVisibility(credentials: HubCredentials, repo: string, wantPrivate: boolean): Promise<{ private: boolean }> {
  const info = await modelInfo({ ...credentials, name: repo });
  if (wantPrivate && !info.private) {
    throw ApplicationFailure.nonRetryable(
      `refusing to publish: publish.private is true but the Hub repository ${repo} already exists and is public; make it private on the Hub (Settings → visibility), or publish to another repository, or set publish.private to false if the model may be public`,
      'PublishVisibility',
    );
  }
  return { private: info.private };
}

/** How far back a retry looks for its own commit (others may have committed on top of it since). */
const LOOK_BACK = 20;

/** The branch head, and this run's commit if one of the latest commits carries the marker (a retried commit that had landed). */
export async function headOf(credentials: HubCredentials, repo: string, marker: string): Promise<{ head?: string; committed?: string }> {
  let head: string | undefined;
  let seen = 0;
  try {
    for await (const c of listCommits({ ...credentials, repo: { type: 'model', name: repo }, batchSize: LOOK_BACK })) {
      head ??= c.oid;
      if (`${c.title}\n${c.message}`.split('\n').some((l) => l.trim() === marker)) return { head, committed: c.oid };
      if (++seen >= LOOK_BACK) break;
    }
  } catch (err) {
    // A repository created a moment ago may have no branch yet: nothing to build on, nothing committed.
    if (err instanceof HubApiError && err.statusCode === 404) return {};
    throw err;
  }
  return { head };
}

/**
 * Publish (CPU queue): the fine-tuned model goes to the Hugging Face Hub only when its evaluation passes the gate.
 * Files: the adapter (or merged weights) with its tokenizer, a model card README.md and twinflow_lineage.json.
 * Dry-run writes exactly those files to S3 instead. The Hub token is the worker's HF_TOKEN (config.hf.token); the Hub
 * address is the worker's HF_HUB_URL: neither comes from workflow input, so no input can send the token elsewhere.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { commit, createRepo, HubApiError } from '@huggingface/hub';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { sha256 } from '../../lib/hash';
import type { DatasetRef, ModelEvaluation, Publish, PublishResult, ReviewOutcome, Training } from '../../lib/schemas/train';
import type { DpoLineage } from './model-card';
import type { Deps } from '../deps';
import { downloadDir, listFiles } from '../gpu/s3-dirs';
import { runPrefixOf } from '../gpu/shared';
import { checkGate } from './gate';
import { checkVisibility, headOf, publishMarker } from './hub-checks';
import { checkModelCard } from './card-check';
import { modelCard } from './model-card';

export interface PublishInput {
  publish: Publish;
  baseModel: string;
  adapterUri: string;
  mergedUri?: string;
  dataset: Pick<DatasetRef, 'name' | 'version' | 'manifestUri' | 'counts'>;
  /** The fine-tuned model's evaluation. */
  model: ModelEvaluation;
  evaluations: ModelEvaluation[];
  training: Training;
  reportUri?: string;
  reviewUri?: string;
  /** The human review's decision (an approval, or the timeout policy): it goes into the card's lineage. */
  review?: ReviewOutcome;
  /** The preference-tuning stage the published adapter came out of, if any: its settings, pairs and SFT start. */
  dpo?: DpoLineage;
}

export function createPublishActivities({ config, artifacts }: Deps) {
  return {
    async publishModel(input: PublishInput): Promise<PublishResult> {
      const ctx = Context.current();
      const p = input.publish;
      const gate = checkGate(p.gate, input.model, input.evaluations.filter((e) => e.kind === 'baseline'));
      if (!gate.passed) return { published: false, dryRun: p.dryRun, gatePassed: false, reasons: gate.reasons, files: [] };

      const weightsUri = p.weights === 'merged' ? input.mergedUri : input.adapterUri;
      if (!weightsUri) throw ApplicationFailure.nonRetryable('publish.weights: "merged" needs training.merge = true (no merged weights were saved)', 'PublishConfig');
      if (!p.dryRun && !config.hf.token) throw ApplicationFailure.nonRetryable('HF_TOKEN is not set in the environment of the worker that publishes', 'PublishConfig');

      const runPrefix = runPrefixOf(ctx.info);
      const wf = ctx.info.workflowExecution;
      const dir = path.join(config.home, 'publish-work', sha256(`${runPrefix}:${p.repo}`).slice(0, 16));
      fs.rmSync(dir, { recursive: true, force: true });
      try {
        await downloadDir(artifacts, weightsUri, dir);
        const lineage = {
          workflowId: wf?.workflowId ?? 'n/a',
          runId: wf?.runId ?? 'n/a',
          adapterUri: input.adapterUri,
          reportUri: input.reportUri,
          ...(input.reviewUri && { reviewUri: input.reviewUri }),
          ...(input.review && { review: input.review }),
        };
        fs.writeFileSync(
          path.join(dir, 'README.md'),
          modelCard({
            repo: p.repo,
            baseModel: input.baseModel,
            weights: p.weights,
            license: p.license,
            datasets: p.datasets ?? [input.dataset.name],
            dataset: input.dataset,
            model: input.model,
            evaluations: input.evaluations,
            training: input.training,
            ...(input.dpo && { dpo: input.dpo }),
            lineage,
          }),
        );
        fs.writeFileSync(
          path.join(dir, 'twinflow_lineage.json'),
          JSON.stringify({ ...lineage, dataset: input.dataset, baseModel: input.baseModel, evaluation: input.model, gate: gate.reasons, ...(input.dpo && { dpo: input.dpo }) }, null, 2),
        );
        const files = listFiles(dir).filter((f) => f !== '_COMPLETE.json');
        ctx.heartbeat({ files: files.length });
        // The card's metadata as the Hub reads it (huggingface_hub), before anything is written or uploaded.
        const cardCheck = await checkModelCard(config, path.join(dir, 'README.md'));

        if (p.dryRun) {
          const prefix = `${runPrefix}/publish-dry-run/${p.repo}`;
          for (const f of files) await artifacts.putBytes(`${prefix}/${f}`, fs.readFileSync(path.join(dir, f)));
          return { published: false, dryRun: true, gatePassed: true, reasons: gate.reasons, repo: p.repo, files, dryRunUri: artifacts.uri(`${prefix}/`), cardCheck };
        }

        const credentials = { accessToken: config.hf.token!, hubUrl: config.hf.hubUrl };
        let repoUrl = `${config.hf.hubUrl.replace(/\/$/, '')}/${p.repo}`;
        try {
          const created = await createRepo({ ...credentials, repo: { type: 'model', name: p.repo }, private: p.private, license: p.license });
          repoUrl = created.repoUrl ?? repoUrl;
        } catch (err) {
          // 409: the repository exists (a re-run, or a retry after a lost response): commit to it, if its visibility
          // allows (createRepo's `private` did not apply to it).
          if (!(err instanceof HubApiError && err.statusCode === 409)) throw err;
          await checkVisibility(credentials, p.repo, p.private);
        }
        // A retry whose earlier attempt committed (and lost the answer) finds its marker and does not commit again.
        const marker = publishMarker(wf?.workflowId ?? 'n/a', wf?.runId ?? 'n/a');
        const { head, committed } = await headOf(credentials, p.repo, marker);
        if (committed) return { published: true, dryRun: false, gatePassed: true, reasons: gate.reasons, repo: p.repo, repoUrl, commitOid: committed, files };
        const out = await commit({
          ...credentials,
          repo: { type: 'model', name: p.repo },
          title: p.commitMessage ?? `twinflow: ${input.model.model} (dataset ${input.dataset.name}@${input.dataset.version})`,
          description: [...gate.reasons, '', marker].join('\n'),
          // Built on the head seen above: a commit that landed in between makes this one fail (412) and retry.
          ...(head ? { parentCommit: head } : {}),
          operations: files.map((f) => ({ operation: 'addOrUpdate' as const, path: f, content: pathToFileURL(path.join(dir, f)) })),
          // Plain Git LFS upload (preupload → LFS batch "basic" → PUT → commit), the path the tests exercise.
          useXet: false,
          abortSignal: ctx.cancellationSignal,
        });
        return { published: true, dryRun: false, gatePassed: true, reasons: gate.reasons, repo: p.repo, repoUrl, commitOid: out?.commit.oid, files };
      } catch (err) {
        // 412: another commit landed on the head this one was built on; a retry builds on the new head.
        if (err instanceof HubApiError && err.statusCode >= 400 && err.statusCode < 500 && err.statusCode !== 408 && err.statusCode !== 412 && err.statusCode !== 429) {
          throw ApplicationFailure.nonRetryable(`publish to ${p.repo} failed: ${err.message}`, 'HubApiError');
        }
        throw err;
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export type PublishActivities = ReturnType<typeof createPublishActivities>;

// What the remote helper, the pre-push hook and `git mgit push/fetch` share: plan the chunks, open the
// storage the remote uses, move the objects, and describe what went wrong in words a user can act on.
// Moves no git refs: callers decide what a failure means for each ref.

import { errorMessage, isMgitError, StorageError } from '../errors.js';
import { configGet } from '../git/git.js';
import type { Repo } from '../repo.js';
import { chooseStorage, type StorageChoice } from './locate.js';
import { chunksToPush, type ChunkNeeds } from './plan.js';
import { openStorage, type Storage } from './storage.js';
import { DEFAULT_JOBS, Downloader, uploadObjects, type UploadResult } from './transfer.js';
import { Progress } from './progress.js';

/** How many transfers run at once (`mgit.transfers`). */
export function transferJobs(cwd?: string): number {
  const v = Number(configGet('mgit.transfers', { cwd }));
  return Number.isInteger(v) && v > 0 && v <= 256 ? v : DEFAULT_JOBS;
}

export interface PushChunksOptions {
  remote?: string;
  url?: string;
  include: string[];
  exclude: string[];
  trackingRemote?: string;
  dryRun?: boolean;
  progress?: boolean;
  cwd?: string;
}

export interface PushChunksReport {
  needs: ChunkNeeds;
  choice?: StorageChoice;
  result?: UploadResult;
  /** chunk id -> why it is not on storage now; empty when everything needed is there */
  problems: Map<string, string>;
  /** set when nothing could be uploaded at all (no storage configured, storage unreachable, ...) */
  fatal?: Error;
}

/** Uploads the chunks the given commits need and the remote lacks. Never throws for storage trouble. */
export async function pushChunks(repo: Repo, opts: PushChunksOptions): Promise<PushChunksReport> {
  const needs = await chunksToPush(opts.include, opts.exclude, opts.trackingRemote, opts.cwd);
  return uploadNeeds(repo, needs, opts);
}

export async function uploadNeeds(repo: Repo, needs: ChunkNeeds, opts: Omit<PushChunksOptions, 'include' | 'exclude' | 'trackingRemote'>): Promise<PushChunksReport> {
  const report: PushChunksReport = { needs, problems: new Map() };
  if (needs.chunks.size === 0) return report; // no models: no storage needed at all
  let storage: Storage | undefined;
  try {
    report.choice = chooseStorage({ remote: opts.remote, url: opts.url, cwd: opts.cwd });
    storage = await openStorage(report.choice.spec, report.choice.s3);
    report.result = await uploadObjects(repo.store, storage, needs.chunks.keys(), {
      jobs: transferJobs(opts.cwd),
      progress: opts.progress,
      dryRun: opts.dryRun,
    });
  } catch (e) {
    report.fatal = e as Error;
    for (const id of needs.chunks.keys()) report.problems.set(id, errorMessage(e));
    return report;
  } finally {
    await storage?.close();
  }
  const r = report.result;
  report.fatal = r.fatal;
  for (const [id, why] of r.missing) report.problems.set(id, why);
  for (const [id, why] of r.failed) if (!report.problems.has(id)) report.problems.set(id, why);
  return report;
}

/** One line per problem for stderr, naming the chunk and the models that need it. */
export function describeProblems(report: PushChunksReport, limit = 10): string[] {
  const lines: string[] = [];
  if (report.fatal) lines.push(report.fatal instanceof StorageError || isMgitError(report.fatal) ? report.fatal.message : report.fatal.stack ?? report.fatal.message);
  let n = 0;
  for (const [id, why] of report.problems) {
    if (report.fatal && why === errorMessage(report.fatal)) continue;
    if (n++ === limit) {
      lines.push(`... and ${report.problems.size - limit} more chunk(s)`);
      break;
    }
    const paths = [...(report.needs.chunks.get(id) ?? [])];
    lines.push(`chunk ${id}${paths.length ? ` (needed by ${paths.join(', ')})` : ''}: ${why}`);
  }
  if (!report.fatal && n === 0 && report.problems.size) lines.push(`${report.problems.size} chunk(s) did not reach storage`);
  if ([...report.problems.values()].some((w) => w.includes('not in the local store'))) {
    lines.push('a missing chunk must come from a clone that has it (`git mgit fetch` there and push from there), or the commit that needs it must not be pushed');
  }
  return lines;
}

/** The short reason for a rejected ref (one line, as the helper protocol needs). */
export function shortReason(report: PushChunksReport, chunkIds: Iterable<string>): string {
  for (const id of chunkIds) {
    const why = report.problems.get(id);
    if (why !== undefined) {
      if (report.fatal && why === errorMessage(report.fatal)) return `mgit: chunks not uploaded: ${fatalSummary(report.fatal)} (see above)`;
      return `mgit: chunk ${id} ${oneLine(why).replace(/^it /, '')}`;
    }
  }
  return 'mgit: chunks not uploaded';
}

/** A few words for a storage-wide failure; the full message is printed on its own line. */
function fatalSummary(e: Error): string {
  switch ((e as { code?: string }).code) {
    case 'ESTORAGEUNREACHABLE':
      return 'cannot reach storage';
    case 'ESTORAGEAUTH':
      return 'storage refused access';
    case 'ESTORAGECONFIG':
      return 'no usable storage configured';
    default:
      return 'storage failed';
  }
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, '; ');
}

export interface FetchChunksReport {
  wanted: number;
  fetched: number;
  bytes: number;
  seconds: number;
  /** chunk id -> error, for chunks that could not be brought in */
  failures: Map<string, Error>;
  storage?: string;
}

/** Downloads chunks that are not local. Throws only when storage cannot be chosen or opened. */
export async function fetchChunks(repo: Repo, ids: Iterable<string>, opts: { remote?: string; url?: string; progress?: boolean; cwd?: string } = {}): Promise<FetchChunksReport> {
  const want = [...new Set(ids)].filter((id) => !repo.store.has(id));
  const report: FetchChunksReport = { wanted: want.length, fetched: 0, bytes: 0, seconds: 0, failures: new Map() };
  if (want.length === 0) return report;
  const choice = chooseStorage({ remote: opts.remote, url: opts.url, cwd: opts.cwd });
  report.storage = choice.url;
  const storage = await openStorage(choice.spec, choice.s3);
  const progress = new Progress('downloading chunks', want.length, 'objects', opts.progress !== false);
  const t0 = performance.now();
  try {
    const dl = new Downloader(repo.store, storage, transferJobs(opts.cwd), (bytes) => progress.add(1, bytes));
    await Promise.all(
      want.map(async (id) => {
        try {
          await dl.ensure(id);
        } catch (e) {
          report.failures.set(id, e as Error);
        }
      }),
    );
    report.fetched = dl.stats.objects;
    report.bytes = dl.stats.bytes;
  } finally {
    progress.finish();
    await storage.close();
  }
  report.seconds = (performance.now() - t0) / 1000;
  return report;
}

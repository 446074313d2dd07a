// git-remote-mgit: the remote helper behind `mgit::<url>` (gitremote-helpers(7)). It wraps any URL git
// knows by running nested git commands against it, and adds what mgit needs:
//   push:  chunks of the pushed commits go to shared storage first; only then does a nested
//          `git push` move the refs. A ref whose chunks are not all on storage is refused and does not
//          move. Lineage refs (refs/mgit/*) are pushed along; a rejected refs/mgit/lineage is fetched,
//          union-merged (docs/lineage-spec.md) and pushed again.
//   fetch: a nested `git fetch` of the requested refs, plus the remote's lineage refs into
//          refs/mgit/remotes/<remote>/* (every lineage read unions those in). No chunks move at fetch
//          time: checkout downloads them on demand (the filter's delay capability).
// Capabilities: option, fetch, push. Not connect: with connect a push cannot be failed after the
// remote accepted it. stdout is the protocol: nothing else may write there (nested git's stdout is
// captured; messages go to stderr).

import { createInterface } from 'node:readline';
import { errorMessage, isMgitError, MgitError } from '../errors.js';
import { humanBytes } from '../format.js';
import {
  deleteRef,
  existingObjects,
  listRefs,
  lsRemote,
  nestedGit,
  remoteUrl,
  resolveRevs,
  setRef,
  type RemoteListing,
} from '../git/remote.js';
import { LINEAGE_REF, mergeLineage } from '../lineage/ref.js';
import { Repo } from '../repo.js';
import { trace } from '../trace.js';
import { chunksToPush } from './plan.js';
import { describeProblems, shortReason, uploadNeeds, type PushChunksReport } from './share.js';

/** Namespaces of mgit metadata refs that travel with every push and fetch through the helper. */
export const LINEAGE_PREFIX = 'refs/mgit/';
/** Where fetched lineage refs of a named remote are kept (never pushed back). */
const TRACKING_INFIX = 'remotes/';
/** Local-only refs under refs/mgit/ that never travel. */
const LOCAL_ONLY = [`${LINEAGE_PREFIX}${TRACKING_INFIX}`, `${LINEAGE_PREFIX}fetch-tmp/`];

function travels(name: string): boolean {
  return name.startsWith(LINEAGE_PREFIX) && !LOCAL_ONLY.some((p) => name.startsWith(p));
}

export const GUARD_ENV = 'MGIT_REMOTE_HELPER';

interface PushSpec {
  force: boolean;
  src: string;
  dst: string;
}

interface Options {
  verbosity: number;
  progress: boolean;
  dryRun: boolean;
  atomic: boolean;
  force: boolean;
  pushOptions: string[];
  cas: string[];
}

export class Helper {
  private readonly opts: Options = { verbosity: 1, progress: false, dryRun: false, atomic: false, force: false, pushOptions: [], cas: [] };
  private listing?: RemoteListing;
  /** a configured remote name (not a bare URL given on the command line) */
  private readonly named?: string;
  private readonly env: NodeJS.ProcessEnv;
  private listedForFetch = false;
  private listedForPush = false;
  private lineageFetched = false;
  private pushed = false;

  constructor(
    readonly remote: string,
    readonly url: string,
    private readonly out: (s: string) => void,
  ) {
    this.named = remote !== url && remoteUrl(remote) !== undefined ? remote : undefined;
    this.env = { ...process.env, [GUARD_ENV]: url };
  }

  private say(line: string): void {
    trace(`helper> ${line}`);
    this.out(line + '\n');
  }

  private info(msg: string): void {
    if (this.opts.verbosity >= 1) process.stderr.write(`mgit: ${msg}\n`);
  }

  /** Reads commands until git ends the session. */
  async run(input: NodeJS.ReadableStream): Promise<void> {
    const rl = createInterface({ input, crlfDelay: Infinity, terminal: false });
    let pushes: PushSpec[] = [];
    let fetches: { oid: string; name: string }[] = [];
    for await (const line of rl) {
      trace(`helper< ${line}`);
      if (line === 'capabilities') {
        for (const c of ['option', 'fetch', 'push']) this.say(c);
        this.say('');
      } else if (line.startsWith('option ')) {
        this.say(this.option(line.slice(7)));
      } else if (line === 'list' || line === 'list for-push') {
        await this.list(line === 'list for-push');
      } else if (line.startsWith('push ')) {
        pushes.push(parsePushSpec(line.slice(5)));
      } else if (line.startsWith('fetch ')) {
        const [oid, ...name] = line.slice(6).split(' ');
        fetches.push({ oid, name: name.join(' ') });
      } else if (line === '') {
        if (pushes.length) {
          await this.push(pushes);
          pushes = [];
        } else if (fetches.length) {
          await this.fetch(fetches);
          fetches = [];
        } else break; // a blank line on its own ends the session
      } else {
        throw new MgitError('EHELPER', `unknown remote-helper command ${JSON.stringify(line)}`, 128);
      }
    }
    await this.endSession();
  }

  private option(rest: string): string {
    const sp = rest.indexOf(' ');
    const name = sp < 0 ? rest : rest.slice(0, sp);
    const value = sp < 0 ? '' : rest.slice(sp + 1);
    switch (name) {
      case 'verbosity':
        this.opts.verbosity = Number(value) || 0;
        return 'ok';
      case 'progress':
        this.opts.progress = value === 'true';
        return 'ok';
      case 'dry-run':
        this.opts.dryRun = value === 'true';
        return 'ok';
      case 'atomic':
        this.opts.atomic = value === 'true';
        return 'ok';
      case 'force':
        this.opts.force = value === 'true';
        return 'ok';
      case 'push-option':
        this.opts.pushOptions.push(unquote(value));
        return 'ok';
      case 'cas':
        this.opts.cas.push(unquote(value));
        return 'ok';
      case 'cloning':
      case 'followtags':
        return 'ok';
      default:
        return 'unsupported'; // git falls back (e.g. it checks connectivity itself)
    }
  }

  private async list(forPush: boolean): Promise<void> {
    this.listing = await lsRemote(this.url, this.env);
    if (forPush) this.listedForPush = true;
    else this.listedForFetch = true;
    for (const [name, target] of this.listing.symrefs) this.say(`@${target} ${name}`);
    for (const r of this.listing.refs) if (!this.listing.symrefs.has(r.name)) this.say(`${r.oid} ${r.name}`);
    this.say('');
  }

  // ------------------------------------------------------------------------------------------
  // fetch

  private async fetch(wanted: { oid: string; name: string }[]): Promise<void> {
    const names = [...new Set(wanted.map((w) => w.name))];
    // Lineage refs git asked for itself (a configured fetch refspec) are git's to update: writing them
    // first would make git's own compare-and-swap update of the same ref fail.
    const lineage = this.lineageFetchSpecs().filter((spec) => !names.includes(spec.slice(1, spec.indexOf(':'))));
    const args = ['fetch', '--no-tags', '--no-write-fetch-head', '--no-auto-gc', ...this.fetchVerbosity(), this.url, ...names, ...lineage];
    const r = await nestedGit(args, { env: this.env });
    if (r.status !== 0) throw new MgitError('EFETCH', `fetching from ${this.url} failed (see above)`, 128);
    this.lineageFetched = true;
    this.say('');
  }

  private fetchVerbosity(): string[] {
    if (this.opts.progress) return ['--progress'];
    return this.opts.verbosity < 1 ? ['-q'] : [];
  }

  /**
   * Fetch refspecs for the remote's lineage refs that differ from our remote-tracking copies. Only a
   * named remote has copies (refs/mgit/remotes/<remote>/*); lineage is never fetched over the local
   * refs, which a fetch could only overwrite, never merge.
   */
  private lineageFetchSpecs(): string[] {
    if (!this.listing || !this.named || !Repo.find()) return [];
    const local = new Map(listRefs([`${LINEAGE_PREFIX}${TRACKING_INFIX}${this.named}/`]).map((r) => [r.name, r.oid]));
    return this.listing.refs.filter((r) => travels(r.name) && local.get(this.tracking(r.name)!) !== r.oid).map((r) => `+${r.name}:${this.tracking(r.name)}`);
  }

  private tracking(name: string): string | undefined {
    return this.named ? `${LINEAGE_PREFIX}${TRACKING_INFIX}${this.named}/${name.slice(LINEAGE_PREFIX.length)}` : undefined;
  }

  /**
   * git skips the fetch or push command when the refs it was asked about are up to date, but lineage
   * may have moved anyway: bring it in or send it out at the end of the session.
   */
  private async endSession(): Promise<void> {
    if (this.listedForPush && !this.pushed && !this.opts.dryRun && Repo.find()) {
      await this.pushInner([], new Map());
      return;
    }
    if (!this.listedForFetch || this.lineageFetched) return;
    const lineage = this.lineageFetchSpecs();
    if (lineage.length === 0) return;
    const r = await nestedGit(['fetch', '--no-tags', '--no-write-fetch-head', '--no-auto-gc', '-q', this.url, ...lineage], { env: this.env });
    if (r.status !== 0) process.stderr.write(`mgit: warning: could not fetch lineage refs from ${this.url}\n`);
  }

  // ------------------------------------------------------------------------------------------
  // push

  private async push(specs: PushSpec[]): Promise<void> {
    this.pushed = true;
    const status = new Map<string, string>(); // dst -> "ok ..." | "error ..."
    try {
      await this.pushInner(specs, status);
    } catch (e) {
      const why = isMgitError(e) ? e.message : errorMessage(e);
      process.stderr.write(`mgit: ${isMgitError(e) ? why : (e as Error)?.stack ?? why}\n`);
      for (const s of specs) if (!status.has(s.dst)) status.set(s.dst, `error ${s.dst} mgit: ${oneLine(why)}`);
    }
    for (const s of specs) this.say(status.get(s.dst) ?? `error ${s.dst} mgit: not pushed`);
    this.say('');
  }

  private async pushInner(specs: PushSpec[], status: Map<string, string>): Promise<void> {
    const repo = Repo.require();
    this.listing ??= await lsRemote(this.url, this.env);
    const remoteTips = new Map(this.listing.refs.map((r) => [r.name, r.oid]));

    // Resolve sources once: the nested push sends exactly the commits that were scanned.
    const updates = specs.filter((s) => s.src !== '');
    const resolved = resolveRevs(updates.map((s) => s.src));
    const srcOid = new Map<string, string>();
    updates.forEach((s, i) => {
      if (resolved[i]) srcOid.set(s.dst, resolved[i]!);
      else status.set(s.dst, `error ${s.dst} mgit: cannot resolve ${s.src}`);
    });

    // Lineage refs travel along when they differ from the remote's.
    const lineage = listRefs([LINEAGE_PREFIX])
      .filter((r) => travels(r.name))
      .filter((r) => remoteTips.get(r.name) !== r.oid && !specs.some((s) => s.dst === r.name));

    const exclude = [...existingObjects([...new Set(remoteTips.values())])];
    const include = [...new Set([...srcOid.values(), ...lineage.map((r) => r.oid)])];
    const needs = await chunksToPush(include, exclude, this.named);
    for (const u of needs.unreadable) process.stderr.write(`mgit: warning: ${u.path} (blob ${u.oid}) looks like an mgit pointer but cannot be read (${u.error}); its chunks are not checked\n`);
    const report = await uploadNeeds(repo, needs, { remote: this.named, url: this.url, dryRun: this.opts.dryRun, progress: this.opts.progress });
    this.reportUpload(report);

    // Which refs can move: those whose own chunks are all on storage.
    const blocked = new Map<string, string>(); // dst -> reason
    if (report.problems.size > 0) {
      const candidates = [...srcOid.entries()].map(([dst, oid]) => ({ dst, oid }));
      const all = [...candidates, ...lineage.map((r) => ({ dst: r.name, oid: r.oid }))];
      for (const c of all) {
        const own = all.length === 1 ? needs : await chunksToPush([c.oid], exclude, this.named);
        const bad = [...own.chunks.keys()].filter((id) => report.problems.has(id));
        if (bad.length) blocked.set(c.dst, shortReason(report, bad));
      }
      for (const line of describeProblems(report)) process.stderr.write(`mgit: ${line}\n`);
    }
    const blockedUser = [...blocked.keys()].filter((dst) => specs.some((s) => s.dst === dst));
    if (this.opts.atomic && blockedUser.length > 0) {
      const why = blocked.get(blockedUser[0])!;
      for (const s of specs) if (!status.has(s.dst)) status.set(s.dst, `error ${s.dst} ${blocked.get(s.dst) ?? `atomic push failed: ${why}`}`);
      return;
    }
    for (const [dst, why] of blocked) if (specs.some((s) => s.dst === dst)) status.set(dst, `error ${dst} ${why}`);

    const toPush = specs.filter((s) => !status.has(s.dst));
    const lineageToPush = lineage.filter((r) => !blocked.has(r.name));
    if (toPush.length === 0 && lineageToPush.length === 0) return;
    const refspec = (s: PushSpec) => `${s.force || this.opts.force ? '+' : ''}${s.src === '' ? '' : srcOid.get(s.dst)}:${s.dst}`;
    const userSpecs = toPush.map(refspec);
    const lineageSpecs = lineageToPush.map((r) => `${r.oid}:${r.name}`);
    // With --atomic, lineage must not be able to fail the user's refs: it goes in a second push.
    const together = !this.opts.atomic;
    const first = await this.nestedPush(together ? [...userSpecs, ...lineageSpecs] : userSpecs);
    for (const s of toPush) status.set(s.dst, first.get(s.dst) ?? `error ${s.dst} push failed (see above)`);
    let lineageStatus = first;
    if (!together && lineageSpecs.length && !this.opts.dryRun) lineageStatus = await this.nestedPush(lineageSpecs);
    for (const r of lineageToPush) {
      let st = lineageStatus.get(r.name);
      let pushedOid = r.oid;
      if (!st?.startsWith('ok') && r.name === LINEAGE_REF && /fetch first|non-fast forward/.test(st ?? '') && !this.opts.dryRun) {
        ({ status: st, oid: pushedOid } = await this.mergeAndPushLineage(repo, exclude));
      }
      if (st?.startsWith('ok')) {
        const t = this.tracking(r.name);
        if (t && !this.opts.dryRun) setRef(t, pushedOid);
      } else {
        process.stderr.write(`mgit: warning: lineage ref ${r.name} was not pushed (${st?.replace(/^error \S+ /, '') ?? 'no status'}); run git mgit lineage push later\n`);
      }
    }
    for (const [dst, why] of blocked) if (lineage.some((r) => r.name === dst)) process.stderr.write(`mgit: warning: lineage ref ${dst} was not pushed: ${why}\n`);
  }

  /**
   * Someone else pushed lineage: fetch theirs into our remote-tracking copy, union-merge it into ours
   * (records only add up, so this never conflicts) and push the merge, once.
   */
  private async mergeAndPushLineage(repo: Repo, exclude: string[]): Promise<{ status?: string; oid: string }> {
    const tmp = this.tracking(LINEAGE_REF) ?? `${LINEAGE_PREFIX}fetch-tmp/lineage`;
    try {
      const f = await nestedGit(['fetch', '--no-tags', '--no-write-fetch-head', '--no-auto-gc', '-q', this.url, `+${LINEAGE_REF}:${tmp}`], { env: this.env });
      const theirs = f.status === 0 ? resolveRevs([tmp])[0] : undefined;
      if (!theirs) return { status: `error ${LINEAGE_REF} cannot fetch the remote's lineage`, oid: '' };
      const outcome = mergeLineage(repo, theirs, this.named ?? this.url);
      trace(`lineage merge with ${this.url}: ${outcome}`);
      const merged = resolveRevs([LINEAGE_REF])[0]!;
      const needs = await chunksToPush([merged], [...exclude, theirs], this.named);
      if (needs.chunks.size) {
        const report = await uploadNeeds(repo, needs, { remote: this.named, url: this.url, progress: false });
        if (report.problems.size) return { status: `error ${LINEAGE_REF} ${shortReason(report, report.problems.keys())}`, oid: merged };
      }
      return { status: (await this.nestedPush([`${merged}:${LINEAGE_REF}`])).get(LINEAGE_REF), oid: merged };
    } finally {
      if (!this.named) deleteRef(tmp);
    }
  }

  private reportUpload(report: PushChunksReport): void {
    const r = report.result;
    if (!r) return;
    const verb = this.opts.dryRun ? 'would upload' : 'uploaded';
    if (r.uploaded > 0 || this.opts.verbosity > 1) {
      const secs = r.seconds > 0 ? `, ${humanBytes(r.bytes / r.seconds)}/s` : '';
      this.info(`${verb} ${r.uploaded} chunk object(s), ${humanBytes(r.bytes)}${this.opts.dryRun ? '' : secs}, to ${report.choice?.url}; ${r.present} already there`);
    }
  }

  /** Runs the nested push and maps its porcelain report to helper status lines, keyed by destination. */
  private async nestedPush(refspecs: string[]): Promise<Map<string, string>> {
    const args = ['push', '--porcelain', '--no-verify'];
    if (this.opts.dryRun) args.push('--dry-run');
    if (this.opts.atomic) args.push('--atomic');
    // never -q: it also drops the porcelain ref lines we read the outcome from
    args.push(this.opts.progress ? '--progress' : '--no-progress');
    for (const o of this.opts.pushOptions) args.push(`--push-option=${o}`);
    for (const c of this.opts.cas) args.push(`--force-with-lease=${c}`);
    // The outer git reports each ref with its hints, against the mgit:: URL: drop the nested push's own
    // summary of the same failures, keep everything else (remote messages, progress, errors).
    const r = await nestedGit(['-c', 'advice.pushUpdateRejected=false', ...args, this.url, ...refspecs], {
      env: this.env,
      keepLine: (l) => !l.startsWith('error: failed to push some refs to '),
    });
    trace(`nested push exit ${r.status}: ${r.stdout}`);
    return parsePorcelain(r.stdout);
  }
}

export function parsePushSpec(spec: string): PushSpec {
  const force = spec.startsWith('+');
  const s = force ? spec.slice(1) : spec;
  const colon = s.lastIndexOf(':');
  return { force, src: colon < 0 ? s : s.slice(0, colon), dst: colon < 0 ? s : s.slice(colon + 1) };
}

/** `git push --porcelain` lines -> helper status lines (`ok <dst>[ up to date|forced update]` / `error <dst> <why>`). */
export function parsePorcelain(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const parts = line.split('\t');
    if (parts.length < 3 || parts[0].length !== 1) continue;
    const [flag, fromTo, summary] = parts;
    const dst = fromTo.slice(fromTo.lastIndexOf(':') + 1);
    const why = /\(([^)]*)\)\s*$/.exec(summary)?.[1];
    switch (flag) {
      case ' ':
      case '*':
      case '-':
        out.set(dst, `ok ${dst}`);
        break;
      case '+':
        out.set(dst, `ok ${dst} forced update`);
        break;
      case '=':
        out.set(dst, `ok ${dst} up to date`);
        break;
      default: {
        // transport-helper.c recognises git's standard reasons only in these spellings
        const reason = why === 'non-fast-forward' ? 'non-fast forward' : why ?? summary.replace(/^\[|\]$/g, '');
        out.set(dst, `error ${dst} ${reason}`);
      }
    }
  }
  return out;
}

function unquote(v: string): string {
  if (v.startsWith('"') && v.endsWith('"')) {
    try {
      return JSON.parse(v) as string;
    } catch {
      return v.slice(1, -1);
    }
  }
  return v;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, '; ');
}

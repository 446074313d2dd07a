// The repository a command works in: its paths, its chunk store and clean cache. Commands and the
// filter process get one of these instead of finding git directories themselves.

import { MgitError } from './errors.js';
import { configSnapshot, findRepo, parseBool, repoAndConfigAsync, type RepoPaths } from './git/git.js';
import { CleanCache } from './store/clean-cache.js';
import { PointerIndex } from './store/pointer-index.js';
import { ChunkStore } from './store/store.js';

export class Repo {
  readonly paths: RepoPaths;
  private _store?: ChunkStore;
  private _cache?: CleanCache;
  private _index?: PointerIndex;
  private _config?: Map<string, string>;

  private constructor(paths: RepoPaths) {
    this.paths = paths;
  }

  static find(cwd?: string): Repo | undefined {
    const p = findRepo(cwd);
    return p ? new Repo(p) : undefined;
  }

  /**
   * `require`, with the repository's paths and settings read by one child process (or handed over by
   * a prestarted filter's launcher), without blocking: the filter starts this before its handshake.
   */
  static async requireAsync(): Promise<Repo> {
    const { paths, config } = await repoAndConfigAsync();
    if (!paths) throw new MgitError('ENOREPO', 'not in a git repository');
    const repo = new Repo(paths);
    repo._config = config;
    return repo;
  }

  static require(cwd?: string): Repo {
    const r = Repo.find(cwd);
    if (!r) throw new MgitError('ENOREPO', 'not in a git repository');
    return r;
  }

  /** The worktree's top level; commands that need files check out there. */
  get top(): string {
    if (!this.paths.top) throw new MgitError('EBARE', 'this command needs a work tree (the repository is bare)');
    return this.paths.top;
  }

  /** A setting, from one read of the whole configuration (lowercase section and name). */
  config(key: string): string | undefined {
    this._config ??= configSnapshot(this.paths.top ?? this.paths.gitDir);
    return this._config.get(key.toLowerCase());
  }

  configBool(key: string, dflt: boolean): boolean {
    return parseBool(this.config(key), dflt);
  }

  get store(): ChunkStore {
    this._store ??= ChunkStore.forGitDir(this.paths.commonDir);
    return this._store;
  }

  /** Pointers seen by this repository's store (loaded once, on first use). */
  get pointerIndex(): PointerIndex {
    this._index ??= PointerIndex.fromCache(this.cleanCache);
    return this._index;
  }

  /** Lets go of open files (a prestarted filter serves many repositories over its life). */
  close(): void {
    this._store?.close();
  }

  get cleanCache(): CleanCache {
    this._cache ??= new CleanCache(this.store);
    return this._cache;
  }
}

// The test registry: `.mgit/tests.json` at the top of the work tree, versioned with the code
// (docs/tests.md is its spec). It says which tests apply to which model paths. Pure file handling:
// it never runs a test and never spawns git.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { MgitError, UsageError } from '../errors.js';

export const REGISTRY_FILE = '.mgit/tests.json';

export type TestKind = 'command' | 'golden' | 'accuracy';

export interface TestDef {
  name: string;
  /** model path patterns, relative to the top of the work tree: `*` within a folder, `**` across, `?` one char */
  models?: string[];
  /** model types: the test applies to versions whose lineage edges say `meta.model_type` is one of these */
  types?: string[];
  kind: TestKind;
  /** kind command: the argument vector; {model}, {parent}, {path} stand for whole arguments */
  command?: string[];
  /** kind golden: the JSON file with inputs and expected outputs; kind accuracy: the dataset file */
  file?: string;
  /** kind golden: largest allowed absolute difference per output value */
  tolerance?: number;
  /** kind accuracy: lowest passing accuracy (0..1) */
  threshold?: number;
  /** seconds before the test is stopped and counted as failed */
  timeout?: number;
}

export interface Registry {
  version: 1;
  tests: TestDef[];
}

export const DEFAULT_TIMEOUT = 600;

export function registryPath(top: string): string {
  return path.join(top, REGISTRY_FILE);
}

export function loadRegistry(top: string): Registry {
  let text: string;
  try {
    text = fs.readFileSync(registryPath(top), 'utf8');
  } catch {
    return { version: 1, tests: [] };
  }
  return parseRegistry(text);
}

export function parseRegistry(text: string): Registry {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new MgitError('ETESTREG', `${REGISTRY_FILE} is not valid JSON: ${(e as Error).message}`);
  }
  const r = raw as Partial<Registry>;
  if (!r || r.version !== 1 || !Array.isArray(r.tests)) throw new MgitError('ETESTREG', `${REGISTRY_FILE}: expected {"version": 1, "tests": [...]}`);
  for (const t of r.tests) checkDef(t);
  return r as Registry;
}

export function checkDef(t: TestDef): void {
  const bad = (why: string) => new MgitError('ETESTREG', `${REGISTRY_FILE}: test ${JSON.stringify(t?.name)}: ${why}`);
  if (!t || typeof t.name !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(t.name)) throw bad('name must be letters, digits, _ . -');
  const list = (v: unknown) => v === undefined || (Array.isArray(v) && v.every((m) => typeof m === 'string'));
  if (!list(t.models) || !list(t.types)) throw bad('models and types must be lists of strings');
  if (!t.models?.length && !t.types?.length) throw bad('give model path patterns (models) or model types (types)');
  if (t.kind === 'command') {
    if (!Array.isArray(t.command) || t.command.length === 0 || t.command.some((a) => typeof a !== 'string')) throw bad('command must be a non-empty argument list');
  } else if (t.kind === 'golden' || t.kind === 'accuracy') {
    if (typeof t.file !== 'string') throw bad(`a ${t.kind} test needs "file"`);
    if (t.kind === 'accuracy' && (typeof t.threshold !== 'number' || t.threshold < 0 || t.threshold > 1)) throw bad('threshold must be a number in 0..1');
    if (t.tolerance !== undefined && typeof t.tolerance !== 'number') throw bad('tolerance must be a number');
  } else {
    throw bad('kind must be command, golden or accuracy');
  }
  if (t.timeout !== undefined && !(typeof t.timeout === 'number' && t.timeout > 0)) throw bad('timeout must be a positive number of seconds');
}

export function saveRegistry(top: string, reg: Registry): void {
  const file = registryPath(top);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(reg, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

export function addTest(reg: Registry, def: TestDef): void {
  checkDef(def);
  const i = reg.tests.findIndex((t) => t.name === def.name);
  if (i >= 0) reg.tests[i] = def;
  else reg.tests.push(def);
}

/** Compiles a path pattern: `**` any folders, `*` within one folder, `?` one character. */
export function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      i++;
      if (glob[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The tests that apply to a model path (repository-relative, forward slashes) of the given model types. */
export function testsFor(reg: Registry, modelPath: string, types: ReadonlySet<string> = new Set()): TestDef[] {
  return reg.tests.filter((t) => (t.models ?? []).some((g) => globRegExp(g).test(modelPath)) || (t.types ?? []).some((x) => types.has(x)));
}

export function usesTypes(reg: Registry): boolean {
  return reg.tests.some((t) => t.types?.length);
}

export function findTest(reg: Registry, name: string): TestDef {
  const t = reg.tests.find((x) => x.name === name);
  if (!t) throw new UsageError(`no test named ${name} in ${REGISTRY_FILE} (git mgit test list)`);
  return t;
}

// The core's entry point: files in, model and diagnostics out. Pure: no I/O,
// no LSP, no vscode. Front ends (CLI, language server) read files and convert.
import * as path from 'node:path';
import type { Diagnostic } from './diagnostic';
import { DEFAULT_LIMITS, type EvalLimits } from './eval/evaluator';
import { type ModuleRoot, readModule } from './eval/module';
import { extractModel } from './extract';
import type { Model } from './model';
import { PARSE_TIMEOUT_MS, parseNix, type Tree } from './parser';
import { type Environment, OFFLINE } from './environment';
import { HostAnalysis } from './hosts';
import { importedFiles } from './imports';
import { resetSshConfigCache } from './ssh-config';
import { type AnalysisInputs, reuseAfterLexicalEdit } from './incremental';
import { runRules } from './run-rules';

export { runRules };

export interface SourceFile {
  path: string;
  text: string;
  /** A tree already parsed (and kept up to date) by the caller. */
  tree?: Tree;
}

export interface Analysis {
  model: Model;
  roots: ModuleRoot[];
  diagnostics: Diagnostic[];
  hosts: HostAnalysis;
  /** Files whose parse gave up (PARSE_TIMEOUT_MS): read as empty, to be reported by the front end. */
  unparsed: string[];
  /** What it was computed from, for the next analysis to start from (incremental.ts). */
  inputs: AnalysisInputs;
  /** True when only the builder a lexical edit was in was read again (incremental.ts). */
  incremental: boolean;
}

/** What a front end says of a file whose parse gave up. */
export function unparsedMessage(file: string): string {
  return `${file}: parsing took longer than ${PARSE_TIMEOUT_MS / 1000} s (tree-sitter-nix is very slow on some inputs, such as long runs of unary minus signs or selectors); the file is skipped`;
}

/** Machines files are recognised by name: `machines` or `*.machines`. */
export function isMachinesFile(file: string): boolean {
  const base = path.basename(file);
  return base === 'machines' || base.endsWith('.machines');
}

/**
 * Analyses a configuration. `previous`, the analysis of the same files in an
 * equivalent environment (the same answers to lookups), lets a keystroke inside
 * one builder's strings or numbers re-read that builder only (incremental.ts);
 * `previous` must not be used afterwards (its spans follow the edited tree).
 */
export function analyze(files: SourceFile[], env: Environment = OFFLINE, limits: EvalLimits = DEFAULT_LIMITS, previous?: Analysis): Analysis {
  const inputs: AnalysisInputs = { files: files.map((f) => ({ path: f.path, text: f.text })), limits };
  const reused = previous && reuseAfterLexicalEdit(files, env, limits, previous);
  if (reused && previous) {
    remember(reused.edited.path, reused.edited.text, limits, reused.root);
    return { ...previous, model: reused.model, diagnostics: reused.diagnostics, inputs, incremental: true };
  }
  const roots: ModuleRoot[] = [];
  const machines: { file: string; text: string }[] = [];
  const texts = new Map<string, string>();
  for (const f of files) {
    texts.set(f.path, f.text);
    if (isMachinesFile(f.path)) machines.push({ file: f.path, text: f.text });
    else roots.push(cachedModule(f.path, f.text, f.tree, limits));
  }
  followImports(roots, texts, env, limits);
  const model = extractModel(roots, machines, texts);
  const hosts = new HostAnalysis(model, env);
  const unparsed = roots.filter((r) => r.ev.tree.timedOut).map((r) => r.file);
  return { model, roots, hosts, diagnostics: runRules(model, { env, hosts }), unparsed, inputs, incremental: false };
}

/**
 * Read modules are reused while a file's text is unchanged: the values are
 * lazy and memoised, so a second analysis forces nothing new for that file.
 * (Evaluation is deterministic for a given text and limits.) Bounded: the
 * oldest entries go first.
 */
const MODULE_CACHE_SIZE = 20_000;
const moduleCache = new Map<string, { text: string; limits: EvalLimits; root: ModuleRoot }>();

function cachedModule(file: string, text: string, tree: Tree | undefined, limits: EvalLimits): ModuleRoot {
  const hit = moduleCache.get(file);
  if (hit && hit.text === text && hit.limits === limits) return hit.root;
  // A tree parsed here is never edited: keep its arrays, free the native tree.
  const root = readModule(file, tree ?? parseNix(text).detached(), limits);
  remember(file, text, limits, root);
  return root;
}

function remember(file: string, text: string, limits: EvalLimits, root: ModuleRoot): void {
  moduleCache.delete(file);
  moduleCache.set(file, { text, limits, root });
  if (moduleCache.size > MODULE_CACHE_SIZE) moduleCache.delete(moduleCache.keys().next().value as string);
}

/**
 * Forgets what earlier analyses left for later ones (read modules, parsed
 * ssh_config texts): the next analysis starts cold. For benchmarks and tests.
 */
export function resetCaches(): void {
  moduleCache.clear();
  resetSshConfigCache();
}

/** Most files read through imports for one analysis: a bound against runaway configurations. */
const MAX_IMPORTED_FILES = 5000;

/** Reads imported files through env.readFile (which decides what may be read); cycles end at the visited set. */
function followImports(roots: ModuleRoot[], texts: Map<string, string>, env: Environment, limits: EvalLimits): void {
  if (!env.readFile) return;
  let imported = 0;
  for (let i = 0; i < roots.length && imported < MAX_IMPORTED_FILES; i++) {
    for (const candidates of importedFiles(roots[i] as ModuleRoot)) {
      if (candidates.some((c) => texts.has(c))) continue;
      for (const c of candidates) {
        const text = env.readFile(c);
        if (text === undefined) continue;
        texts.set(c, text);
        roots.push(cachedModule(c, text, undefined, limits));
        imported++;
        break;
      }
    }
  }
}

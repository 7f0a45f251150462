// The `nix-builders` command: check, machines, lsp (SPEC §2.1).
import * as fs from 'node:fs';
import { analyze, type SourceFile, unparsedMessage } from './core/analyze';
import type { Diagnostic } from './core/diagnostic';
import { renderBuilder } from './core/render-machines';
import { LineIndex } from './core/span';
import { collectFiles } from './cli/files';
import { cliEnvironment } from './cli/environment';
import { probeCommand } from './cli/probe';
import { version } from '../../package.json';

const USAGE = `Usage:
  nix-builders check [--json] [--offline] PATH...   check Nix files, folders and machines files
  nix-builders machines PATH                        print the /etc/nix/machines text of PATH
  nix-builders probe [--json] [--port N] [--user U] [--identity FILE] [--timeout MS] HOST
                                                    connect over SSH: host key, remote Nix version,
                                                    system, features, trust. --identity: only that key
                                                    (default: ssh-agent and ~/.ssh/id_*); --timeout MS:
                                                    connect and handshake each, command max(15000, MS)
  nix-builders lsp --stdio                          run the language server
  nix-builders --help | --version`;

function fail(message: string): never {
  process.stderr.write(`nix-builders: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function readSources(paths: string[]): SourceFile[] {
  const { files, missing } = collectFiles(paths);
  if (missing.length > 0) fail(`no such file or folder: ${missing.join(', ')}`);
  const sources: SourceFile[] = [];
  for (const f of files) {
    try {
      sources.push({ path: f, text: fs.readFileSync(f, 'utf8') });
    } catch (err) {
      fail(`cannot read ${f}: ${(err as Error).message}`);
    }
  }
  return sources;
}

function toJson(d: Diagnostic, index: LineIndex | undefined) {
  const range = index ? index.range(d.span.start, d.span.end) : { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  return { file: d.span.file, range, severity: d.severity, code: d.code, message: d.message };
}

async function check(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const offline = args.includes('--offline');
  const paths = args.filter((a) => !a.startsWith('--'));
  const unknownFlag = args.find((a) => a.startsWith('--') && a !== '--json' && a !== '--offline');
  if (unknownFlag) fail(`unknown option ${unknownFlag}`);
  if (paths.length === 0) fail('check needs at least one PATH');
  const sources = readSources(paths);
  const { env, withLookups } = cliEnvironment(paths, offline);
  // First pass without answers: it tells which names need a lookup.
  const first = analyze(sources, env);
  const names = new Set<string>();
  for (const b of first.model.builders) {
    const h = first.hosts.forBuilder(b);
    if (h?.address.kind === 'pending') names.add(h.chain.hostName.replace(/\.$/, ''));
  }
  const { model, diagnostics, unparsed } = names.size > 0 ? analyze(sources, await withLookups([...names])) : first;
  for (const f of unparsed) process.stderr.write(`nix-builders: warning: ${unparsedMessage(f)}\n`);
  const indexes = new Map([...model.texts].map(([file, text]) => [file, new LineIndex(text)]));
  const out = diagnostics.map((d) => toJson(d, indexes.get(d.span.file)));
  if (json) {
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    for (const d of out) {
      process.stdout.write(`${d.file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.severity} ${d.code}: ${d.message}\n`);
    }
  }
  return diagnostics.some((d) => d.severity === 'error') ? 1 : 0;
}

function machines(args: string[]): number {
  if (args.length !== 1 || args[0]?.startsWith('--')) fail('machines needs exactly one PATH');
  const { model, unparsed } = analyze(readSources(args));
  for (const f of unparsed) process.stderr.write(`nix-builders: warning: ${unparsedMessage(f)}\n`);
  for (const b of model.builders) {
    if (b.source !== 'nix') continue;
    const r = renderBuilder(b);
    process.stdout.write(`${r.line}\n`);
    if (b.conditional) process.stderr.write(`nix-builders: note: the builder of "${r.line}" is defined under a condition that could not be read\n`);
    else if (r.hasUnknown) process.stderr.write(`nix-builders: note: "${r.line}" has values that could not be read statically\n`);
  }
  return 0;
}

/** Sets the exit code of an asynchronous command; an unexpected failure is reported with exit 2. */
function finish(run: Promise<number>): void {
  run.then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`nix-builders: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 2;
    },
  );
}

function main(argv: string[]): void {
  // `nix-builders check … | head`: a reader that stops early is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'check':
      finish(check(rest));
      return;
    case 'machines':
      process.exitCode = machines(rest);
      return;
    case 'probe':
      finish(probeCommand(rest));
      return;
    case 'lsp':
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('./server');
      return;
    case '--version':
      process.stdout.write(`${version}\n`);
      return;
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return;
    case undefined:
      fail('a command is needed');
      return;
    default:
      fail(`unknown command "${cmd}"`);
  }
}

main(process.argv.slice(2));

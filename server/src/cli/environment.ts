// The CLI's view of the outside world: ssh_config and known_hosts files, files
// the configuration imports, and name lookups. `--offline` does no lookups and
// reads nothing outside the paths given. Tests and CI point the file lists and
// the DNS server elsewhere through NIX_BUILDERS_* environment variables.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Environment } from '../core/environment';
import { DEFAULT_KNOWN_HOSTS_FILES, DEFAULT_SSH_CONFIG_FILES, readExternalFiles } from '../hosts/external-files';
import { HostResolver } from '../hosts/resolver';

function list(name: string, fallback: string[]): string[] {
  const v = process.env[name];
  if (v === undefined) return fallback;
  return v.split(':').filter((p) => p !== '');
}

const MAX_IMPORT_BYTES = 16 * 1024 * 1024;

function reader(allowedRoots: string[] | undefined): (p: string) => string | undefined {
  const roots = allowedRoots?.map((r) => path.resolve(r));
  return (p) => {
    const abs = path.resolve(p);
    if (roots && !roots.some((r) => abs === r || abs.startsWith(`${r}${path.sep}`))) return undefined;
    try {
      const st = fs.statSync(abs);
      return st.isFile() && st.size <= MAX_IMPORT_BYTES ? fs.readFileSync(abs, 'utf8') : undefined;
    } catch {
      return undefined;
    }
  };
}

export interface CliEnvironment {
  env: Environment;
  /** Looks up the given names, then returns the environment that knows the answers. */
  withLookups(names: string[]): Promise<Environment>;
}

export function cliEnvironment(paths: string[], offline: boolean): CliEnvironment {
  if (offline) {
    const env: Environment = { sshConfigFiles: [], knownHostsFiles: [], lookups: false, checkHostKeys: true, resolve: () => undefined, readFile: reader(paths) };
    return { env, withLookups: async () => env };
  }
  const env: Environment = {
    sshConfigFiles: readExternalFiles(list('NIX_BUILDERS_SSH_CONFIG', DEFAULT_SSH_CONFIG_FILES)),
    knownHostsFiles: readExternalFiles(list('NIX_BUILDERS_KNOWN_HOSTS', DEFAULT_KNOWN_HOSTS_FILES)),
    lookups: true,
    checkHostKeys: true,
    resolve: () => undefined,
    readFile: reader(undefined),
  };
  return {
    env,
    async withLookups(names) {
      if (names.length === 0) return env;
      const timeout = Number(process.env.NIX_BUILDERS_DNS_TIMEOUT_MS);
      const resolver = new HostResolver({
        server: process.env.NIX_BUILDERS_DNS_SERVER || undefined,
        timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : undefined,
      });
      await Promise.all(names.map((n) => resolver.resolve(n)));
      const answers = new Map(names.map((n) => [n, resolver.peek(n)]));
      resolver.dispose();
      return { ...env, resolve: (n) => answers.get(n) };
    },
  };
}

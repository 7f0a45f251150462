// Reads the ssh_config and known_hosts files named in settings, labelling the
// editing user's own files: root's ssh (nix-daemon) does not read them.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ExternalFile } from '../core/environment';

export const DEFAULT_SSH_CONFIG_FILES = ['/etc/ssh/ssh_config', '~/.ssh/config'];
export const DEFAULT_KNOWN_HOSTS_FILES = ['/etc/ssh/ssh_known_hosts', '~/.ssh/known_hosts'];

/** Largest file read: these are small text files; anything bigger is not one of them. */
const MAX_BYTES = 4 * 1024 * 1024;

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function expandHome(p: string, home = os.homedir()): string {
  return p === '~' ? home : p.startsWith('~/') ? path.join(home, p.slice(2)) : p;
}

export function readExternalFiles(paths: string[], home = os.homedir()): ExternalFile[] {
  const out: ExternalFile[] = [];
  for (const written of paths) {
    const p = expandHome(written, home);
    try {
      const st = fs.statSync(p);
      if (!st.isFile() || st.size > MAX_BYTES) continue;
      const inHome = written.startsWith('~') || p.startsWith(`${home}/`);
      out.push({ path: p, text: fs.readFileSync(p, 'utf8'), notRoot: inHome && !isRoot() });
    } catch {
      // Missing or unreadable: ssh skips it too.
    }
  }
  return out;
}

// What the analysis knows from outside the configuration files: ssh_config and
// known_hosts files (read by the front end), and the answers of name lookups
// (made by the front end, asynchronously). The core itself does no I/O.

export interface ExternalFile {
  path: string;
  text: string;
  /** A file of the editing user that root's ssh does not read (~/.ssh/config, ~/.ssh/known_hosts). */
  notRoot: boolean;
}

export type Resolution =
  | { status: 'resolved'; addresses: string[] }
  | { status: 'not-found'; detail: string }
  | { status: 'timeout'; ms: number }
  | { status: 'error'; detail: string };

export interface Environment {
  sshConfigFiles: ExternalFile[];
  knownHostsFiles: ExternalFile[];
  /** False: no name lookups (offline, untrusted workspace, or turned off). */
  lookups: boolean;
  /** Check host keys (missing-host-key, host-key-name-mismatch). Off for a bare analysis of files. */
  checkHostKeys: boolean;
  /** The cached answer for a name; undefined while not known (yet). Never blocks. */
  resolve(name: string): Resolution | undefined;
  /** Reads a file the configuration names (publicKeyFile); undefined when it may not or cannot be read. */
  readFile?(path: string): string | undefined;
}

export const OFFLINE: Environment = {
  sshConfigFiles: [],
  knownHostsFiles: [],
  lookups: false,
  checkHostKeys: false,
  resolve: () => undefined,
};

/** A label for messages: "~/.ssh/config (yours, not root's)". */
export function fileLabel(f: ExternalFile, home?: string): string {
  const shown = home && f.path.startsWith(`${home}/`) ? `~${f.path.slice(home.length)}` : f.path;
  return f.notRoot ? `${shown} (yours, not root's)` : shown;
}

// The server's settings: ONE schema (default + description per setting) that
// package.json `contributes.configuration` mirrors (a test compares them), and
// the reader that turns whatever a client sends into validated Settings.
// `nixBuilders.trace.server` is handled by the client library alone and is not
// part of this schema.

export const SETTINGS_SECTION = 'nixBuilders';

export type SettingSchema =
  | { type: 'number'; default: number; minimum?: number; maximum?: number; description: string }
  | { type: 'boolean'; default: boolean; description: string }
  | { type: 'string'; default: string; description: string }
  | { type: 'array'; items: { type: 'string' }; default: string[]; description: string };

/** Keys are the full setting names as they appear in package.json. */
export const SETTINGS_SCHEMA = {
  'nixBuilders.debounceMs': {
    type: 'number',
    default: 150,
    minimum: 0,
    maximum: 10000,
    description:
      'Milliseconds to wait after the last edit before the open documents are checked again. 0 checks on every change.',
  },
  'nixBuilders.lookups.enable': {
    type: 'boolean',
    default: true,
    description:
      'Look beyond the open documents when checking builders: resolve host names through DNS and read the ssh_config and known_hosts files below, as the nix-daemon (root) would.',
  },
  'nixBuilders.lookupTimeoutMs': {
    type: 'number',
    default: 2000,
    minimum: 100,
    maximum: 30000,
    description:
      'Milliseconds to wait for the answer to one host-name lookup before the builder is reported as not resolving (the lookup timed out).',
  },
  'nixBuilders.dnsServer': {
    type: 'string',
    default: '',
    description:
      'DNS server (IP address, optionally with :port) used to resolve builder host names. Empty: the system resolver.',
  },
  'nixBuilders.sshConfigFiles': {
    type: 'array',
    items: { type: 'string' },
    default: ['/etc/ssh/ssh_config', '~/.ssh/config'],
    description:
      'ssh_config files consulted for Host aliases, HostName, Port and HostKeyAlias of builders. `~` is the home directory of the user running the editor; the nix-daemon uses root\'s.',
  },
  'nixBuilders.knownHostsFiles': {
    type: 'array',
    items: { type: 'string' },
    default: ['/etc/ssh/ssh_known_hosts', '~/.ssh/known_hosts'],
    description:
      'known_hosts files consulted for the host keys of builders, in addition to programs.ssh.knownHosts and publicHostKey in the configuration.',
  },
  'nixBuilders.probe.connectTimeoutMs': {
    type: 'number',
    default: 5000,
    minimum: 100,
    maximum: 60000,
    description:
      'Milliseconds a probe of a builder (Fetch host key, Fill systems and features, Probe all builders) waits for the TCP connection, including the host-name lookup.',
  },
  'nixBuilders.probe.handshakeTimeoutMs': {
    type: 'number',
    default: 5000,
    minimum: 100,
    maximum: 60000,
    description:
      'Milliseconds a probe waits for the SSH banner and key exchange, and again for the login.',
  },
  'nixBuilders.probe.commandTimeoutMs': {
    type: 'number',
    default: 15000,
    minimum: 100,
    maximum: 300000,
    description:
      'Milliseconds a probe waits for its one remote command (nix --version, nix show-config --json) to finish.',
  },
  'nixBuilders.probe.concurrency': {
    type: 'number',
    default: 4,
    minimum: 1,
    maximum: 64,
    description: 'Builders probed at once by Probe all builders.',
  },
} satisfies Record<string, SettingSchema>;

export interface Settings {
  debounceMs: number;
  lookups: { enable: boolean };
  lookupTimeoutMs: number;
  dnsServer: string;
  sshConfigFiles: string[];
  knownHostsFiles: string[];
  probe: { connectTimeoutMs: number; handshakeTimeoutMs: number; commandTimeoutMs: number; concurrency: number };
}

export const DEFAULT_SETTINGS: Settings = Object.freeze({
  debounceMs: SETTINGS_SCHEMA['nixBuilders.debounceMs'].default,
  lookups: Object.freeze({ enable: SETTINGS_SCHEMA['nixBuilders.lookups.enable'].default }),
  lookupTimeoutMs: SETTINGS_SCHEMA['nixBuilders.lookupTimeoutMs'].default,
  dnsServer: SETTINGS_SCHEMA['nixBuilders.dnsServer'].default,
  sshConfigFiles: [...SETTINGS_SCHEMA['nixBuilders.sshConfigFiles'].default],
  knownHostsFiles: [...SETTINGS_SCHEMA['nixBuilders.knownHostsFiles'].default],
  probe: Object.freeze({
    connectTimeoutMs: SETTINGS_SCHEMA['nixBuilders.probe.connectTimeoutMs'].default,
    handshakeTimeoutMs: SETTINGS_SCHEMA['nixBuilders.probe.handshakeTimeoutMs'].default,
    commandTimeoutMs: SETTINGS_SCHEMA['nixBuilders.probe.commandTimeoutMs'].default,
    concurrency: SETTINGS_SCHEMA['nixBuilders.probe.concurrency'].default,
  }),
}) as Settings;

/** The `contributes.configuration` object for package.json, derived from the schema. */
export function configurationContribution(): { title: string; properties: Record<string, SettingSchema> } {
  return { title: 'Nix Builders', properties: JSON.parse(JSON.stringify(SETTINGS_SCHEMA)) as Record<string, SettingSchema> };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Reads one setting (name without the `nixBuilders.` prefix) from the object a
 * client sent for the section. VS Code nests dotted names
 * (`{ lookups: { enable } }`); other clients may send them flat (`"lookups.enable"`).
 */
function lookup(raw: Record<string, unknown>, name: string): unknown {
  if (name in raw) return raw[name];
  let cur: unknown = raw;
  for (const part of name.split('.')) {
    if (!isRecord(cur) || !(part in cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

function readValue(schema: SettingSchema, value: unknown): unknown {
  switch (schema.type) {
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return schema.default;
      const min = schema.minimum ?? -Infinity;
      const max = schema.maximum ?? Infinity;
      return Math.min(max, Math.max(min, value));
    }
    case 'boolean':
      return typeof value === 'boolean' ? value : schema.default;
    case 'string':
      return typeof value === 'string' ? value : schema.default;
    case 'array':
      return Array.isArray(value) && value.every((v) => typeof v === 'string') ? [...(value as string[])] : [...schema.default];
  }
}

/**
 * Settings from the client's answer for the `nixBuilders` section (or from
 * `didChangeConfiguration` params); anything missing or of the wrong type
 * falls back to its default.
 */
export function readSettings(raw: unknown): Settings {
  const section = isRecord(raw) ? raw : {};
  const get = <K extends keyof typeof SETTINGS_SCHEMA>(key: K) =>
    readValue(SETTINGS_SCHEMA[key], lookup(section, key.slice(SETTINGS_SECTION.length + 1)));
  return {
    debounceMs: get('nixBuilders.debounceMs') as number,
    lookups: { enable: get('nixBuilders.lookups.enable') as boolean },
    lookupTimeoutMs: get('nixBuilders.lookupTimeoutMs') as number,
    dnsServer: get('nixBuilders.dnsServer') as string,
    sshConfigFiles: get('nixBuilders.sshConfigFiles') as string[],
    knownHostsFiles: get('nixBuilders.knownHostsFiles') as string[],
    probe: {
      connectTimeoutMs: get('nixBuilders.probe.connectTimeoutMs') as number,
      handshakeTimeoutMs: get('nixBuilders.probe.handshakeTimeoutMs') as number,
      commandTimeoutMs: get('nixBuilders.probe.commandTimeoutMs') as number,
      concurrency: Math.floor(get('nixBuilders.probe.concurrency') as number),
    },
  };
}

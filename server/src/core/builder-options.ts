// The options of the nix.buildMachines and programs.ssh.knownHosts submodules
// (nixos/modules/config/nix-remote-build.nix, programs/ssh.nix): types, defaults
// and documentation, shared by the type rule, hover and completion.

export type OptionType = 'string' | 'nullOrString' | 'listOfStrings' | 'int' | 'number' | 'bool' | 'protocol';

export interface OptionDoc {
  type: OptionType;
  /** The type as the NixOS manual writes it. */
  typeText: string;
  default: string;
  doc: string;
}

export const BUILDER_OPTIONS: Record<string, OptionDoc> = {
  hostName: {
    type: 'string',
    typeText: 'string',
    default: '(required)',
    doc: 'The host to connect to: a DNS name, an IP address, or an ssh_config `Host` alias of root. No `ssh://` prefix and no `user@` (use `protocol` and `sshUser`). Nix >= 2.31 accepts `host:port`.',
  },
  protocol: {
    type: 'protocol',
    typeText: 'null or one of "ssh", "ssh-ng"',
    default: '"ssh"',
    doc: '`ssh` runs `nix-store --serve` on the builder; `ssh-ng` runs `nix-daemon --stdio` (needed for content-addressed derivations and newer features). null writes no scheme.',
  },
  system: {
    type: 'nullOrString',
    typeText: 'null or string',
    default: 'null',
    doc: 'The one system type the builder builds for, e.g. `x86_64-linux`. Wins over `systems` when both are set.',
  },
  systems: {
    type: 'listOfStrings',
    typeText: 'list of string',
    default: '[ ]',
    doc: 'The system types the builder builds for, e.g. `[ "x86_64-linux" "aarch64-linux" ]` (emulated ones need binfmt on the builder). Every machine needs `system` or a non-empty `systems`.',
  },
  sshUser: {
    type: 'nullOrString',
    typeText: 'null or string',
    default: 'null',
    doc: "The user to log in as on the builder; root's ssh_config `User` when null. Must be in the builder's `trusted-users` for many builds.",
  },
  sshKey: {
    type: 'nullOrString',
    typeText: 'null or string',
    default: 'null',
    doc: 'Absolute path of the private key on THIS machine, read by root (nix-daemon). Not in /nix/store, not relative, no `~`, no passphrase.',
  },
  maxJobs: {
    type: 'int',
    typeText: 'signed integer',
    default: '1',
    doc: 'How many builds the builder runs at once. 0: the builder is never chosen.',
  },
  speedFactor: {
    type: 'number',
    typeText: 'positive number',
    default: '1',
    doc: 'Relative speed; Nix prefers builders with a higher value.',
  },
  supportedFeatures: {
    type: 'listOfStrings',
    typeText: 'list of string',
    default: '[ ]',
    doc: 'System features the builder offers, e.g. `kvm`, `big-parallel`, `nixos-test`, `benchmark`. With an empty list, builds that require any feature stay local.',
  },
  mandatoryFeatures: {
    type: 'listOfStrings',
    typeText: 'list of string',
    default: '[ ]',
    doc: 'Features a derivation must require ALL of to be built here; they count as supported too.',
  },
  publicHostKey: {
    type: 'nullOrString',
    typeText: 'null or string',
    default: 'null',
    doc: "Base64 of the builder's WHOLE public host key line: `base64 -w0 /etc/ssh/ssh_host_ed25519_key.pub`. null: root's known_hosts is used.",
  },
};

export const KNOWN_HOST_OPTIONS: Record<string, OptionDoc> = {
  hostNames: {
    type: 'listOfStrings',
    typeText: 'list of string',
    default: '[ <name> ] ++ extraHostNames',
    doc: 'The names (and addresses, or `[host]:port`) this key is for. Setting it drops the attribute name.',
  },
  extraHostNames: {
    type: 'listOfStrings',
    typeText: 'list of string',
    default: '[ ]',
    doc: 'Names added to the default `hostNames` (the attribute name).',
  },
  publicKey: {
    type: 'nullOrString',
    typeText: 'null or string',
    default: 'null',
    doc: 'The public key as `type base64blob`, without host names. Exactly one of publicKey and publicKeyFile.',
  },
  publicKeyFile: {
    type: 'nullOrString',
    typeText: 'null or path',
    default: 'null',
    doc: 'A file holding the public key. Exactly one of publicKey and publicKeyFile.',
  },
  certAuthority: {
    type: 'bool',
    typeText: 'boolean',
    default: 'false',
    doc: 'The key is a certificate authority (`@cert-authority` line) for the host name patterns.',
  },
};

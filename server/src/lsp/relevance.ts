// Which .nix files take part in the analysis. The core treats every file it is
// given as a module of one configuration, and a file it cannot read as a module
// (shell.nix, a package expression, an overlay) makes every option "partly
// unknown", which silences the host checks of the whole workspace; every file
// also costs time in each analysis. A file can only define an option the core
// reads (nix.buildMachines, nix.settings.builders / max-jobs,
// nix.distributedBuilds, nix.extraOptions, programs.ssh.knownHosts /
// extraConfig, networking.hosts, nixpkgs.hostPlatform / system) if the option's
// name appears in its text, or the file assigns the set around it (`nix = …`,
// `programs = …`, `ssh = …`, `networking = …`, `hosts = …`, `nixpkgs = …`,
// `nix.settings = …`), which may be a value read from elsewhere. Files with
// none of these are left out. A file that imports others counts too (they may
// be outside the workspace).
const RELEVANT = new RegExp(
  [
    String.raw`\b(?:nix|programs|ssh|networking|hosts|nixpkgs)\s*=`,
    String.raw`\bnix\s*\.\s*settings\s*=`,
    String.raw`\bprograms\s*\.\s*ssh\b`,
    String.raw`\bnetworking\s*\.\s*hosts\b`,
    String.raw`\bnixpkgs\s*\.\s*system\b`,
    'buildMachines|knownHosts|distributedBuilds|builders|max-jobs|extraOptions|hostPlatform|localSystem',
    String.raw`\bimports\b`,
  ].join('|'),
);

/** Whether a Nix file's text may contribute to the remote-build configuration. */
export function mayContribute(text: string): boolean {
  return RELEVANT.test(text);
}

// The system features builders commonly advertise (SPEC 1.4), for unknown-feature warnings and did-you-mean.

/** Features Nix itself or NixOS defines a meaning for. */
export const WELL_KNOWN_FEATURES: readonly string[] = [
  'benchmark',
  'big-parallel',
  'kvm',
  'nixos-test',
  'apple-virt',
  'ca-derivations',
  'recursive-nix',
  'uid-range',
  'builder-rpc-v0',
];

/**
 * Values of `gcc.arch` a NixOS builder turns into `gccarch-<arch>` features
 * (itself plus its inferiors). First the names of nixpkgs
 * lib/systems/architectures.nix, then other common GCC -march values people
 * set, so that a real architecture never earns a warning.
 */
export const GCC_ARCHS: readonly string[] = [
  // architectures.nix: x86-64 generic, Intel, AMD
  'default', 'x86-64', 'x86-64-v2', 'x86-64-v3', 'x86-64-v4',
  'nehalem', 'westmere', 'silvermont', 'sandybridge', 'ivybridge', 'haswell', 'broadwell', 'skylake',
  'skylake-avx512', 'cannonlake', 'icelake-client', 'icelake-server', 'cascadelake', 'cooperlake',
  'tigerlake', 'alderlake', 'sapphirerapids', 'emeraldrapids', 'sierraforest',
  'btver1', 'btver2', 'bdver1', 'bdver2', 'bdver3', 'bdver4',
  'znver1', 'znver2', 'znver3', 'znver4', 'znver5',
  // architectures.nix: AArch64 / ARM
  'armv5te', 'armv6', 'armv7-a', 'armv8-a',
  'armv8.1-a', 'armv8.2-a', 'armv8.3-a', 'armv8.4-a', 'armv8.5-a', 'armv8.6-a', 'armv8.7-a', 'armv8.8-a',
  'armv8.9-a', 'armv9-a', 'armv9.1-a', 'armv9.2-a', 'armv9.3-a', 'armv9.4-a',
  'cortex-a53', 'cortex-a55', 'cortex-a72', 'cortex-a76',
  'ampere1', 'ampere1a', 'ampere1b',
  // architectures.nix: LoongArch, MIPS
  'loongarch64', 'la464', 'la664', 'la64v1.0', 'la64v1.1',
  'mips32', 'loongson2f',
  // other GCC -march values seen in NixOS configurations
  'i686', 'pentium4', 'core2', 'bonnell', 'goldmont', 'goldmont-plus', 'tremont', 'rocketlake',
  'graniterapids', 'graniterapids-d', 'arrowlake', 'arrowlake-s', 'lunarlake', 'pantherlake',
  'clearwaterforest', 'diamondrapids', 'k8', 'amdfam10',
  'armv7', 'armv7ve', 'armv9.5-a', 'cortex-a57', 'cortex-a73', 'cortex-a75', 'cortex-a78',
  'neoverse-n1', 'neoverse-n2', 'neoverse-v1', 'neoverse-v2',
  'mips64', 'loongson3a', 'rv32gc', 'rv32imac', 'rv64gc', 'rv64imac',
];

const GCCARCH = 'gccarch-';

/** Every well-known feature spelled out: the did-you-mean candidates. */
export const KNOWN_FEATURES: readonly string[] = [
  ...WELL_KNOWN_FEATURES,
  ...GCC_ARCHS.map((a) => GCCARCH + a),
];

const wellKnown = new Set(WELL_KNOWN_FEATURES);
const archs = new Set(GCC_ARCHS);

export function isKnownFeature(f: string): boolean {
  if (wellKnown.has(f)) return true;
  if (!f.startsWith(GCCARCH)) return false;
  // gcc.arch may carry extensions (nixpkgs' apple-m1 uses
  // "armv8.3-a+crypto+..."), and NixOS writes it verbatim into the feature.
  const arch = f.slice(GCCARCH.length).split('+', 1)[0] ?? '';
  return archs.has(arch);
}

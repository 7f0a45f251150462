// The system strings Nix users actually build for (SPEC 1.3), for unknown-system warnings and did-you-mean.

/** nixpkgs lib/systems/doubles.nix, in its order. */
export const SYSTEM_DOUBLES: readonly string[] = [
  'i686-cygwin', 'x86_64-cygwin',
  'x86_64-darwin', 'aarch64-darwin',
  'i686-freebsd', 'x86_64-freebsd', 'aarch64-freebsd',
  'aarch64-genode', 'i686-genode', 'x86_64-genode',
  'x86_64-solaris',
  'javascript-ghcjs',
  'aarch64-linux', 'arc-linux', 'armv5tel-linux', 'armv6l-linux', 'armv7a-linux', 'armv7l-linux',
  'i686-linux', 'loongarch64-linux', 'm68k-linux', 'sh4-linux', 'microblaze-linux', 'microblazeel-linux',
  'mips-linux', 'mips64-linux', 'mips64el-linux', 'mipsel-linux', 'powerpc-linux', 'powerpc64-linux',
  'powerpc64le-linux', 'riscv32-linux', 'riscv64-linux', 's390-linux', 's390x-linux', 'x86_64-linux',
  'mmix-mmixware',
  'aarch64-netbsd', 'armv6l-netbsd', 'armv7a-netbsd', 'armv7l-netbsd', 'i686-netbsd', 'm68k-netbsd',
  'mipsel-netbsd', 'powerpc-netbsd', 'riscv32-netbsd', 'riscv64-netbsd', 'x86_64-netbsd',
  'aarch64_be-none', 'aarch64-none', 'arm-none', 'armv6l-none', 'avr-none', 'i686-none', 'microblaze-none',
  'microblazeel-none', 'mips-none', 'mips64-none', 'msp430-none', 'or1k-none', 'm68k-none', 'powerpc-none',
  'powerpcle-none', 'riscv32-none', 'riscv64-none', 'rx-none', 's390-none', 's390x-none', 'vc4-none',
  'x86_64-none',
  'i686-openbsd', 'x86_64-openbsd',
  'x86_64-redox',
  'wasm64-wasi', 'wasm32-wasi',
  'aarch64-windows', 'x86_64-windows', 'i686-windows',
  'aarch64-uefi', 'x86_64-uefi',
];

/**
 * Valid in practice although not doubles: `builtin` (derivations such as
 * builtin:fetchurl, which every machine accepts) and the x86-64 levels Nix
 * adds to `extra-platforms` on capable CPUs.
 */
export const EXTRA_SYSTEMS: readonly string[] = [
  'builtin',
  'x86_64-v1-linux', 'x86_64-v2-linux', 'x86_64-v3-linux', 'x86_64-v4-linux',
];

/** Everything isKnownSystem accepts; also the did-you-mean candidates. */
export const KNOWN_SYSTEMS: readonly string[] = [...SYSTEM_DOUBLES, ...EXTRA_SYSTEMS];

const known = new Set(KNOWN_SYSTEMS);

/** Case-sensitive, as Nix compares systems as opaque strings. */
export function isKnownSystem(s: string): boolean {
  return known.has(s);
}

// The remote-build model of a configuration: builders (from nix.buildMachines,
// machines files and `builders` strings), known hosts, ssh_config text,
// networking.hosts and the nix.conf settings that decide whether builders are used.
import type { Definitions } from './eval/module';
import type { StringValue, Thunk, ThunkExpression, Value } from './eval/value';
import type { Span } from './span';

export type BuilderSource = 'nix' | 'machines-file' | 'builders-setting';

export interface ReadAttr {
  name: string;
  /** The value with module wrappers (mkDefault, mkIf true) stripped. */
  value: Value;
  keySpan?: Span;
  bindingSpan?: Span;
}

export interface Builder {
  source: BuilderSource;
  file: string;
  /** The builder's attribute set, or its machines line. */
  span: Span;
  /** Attributes as written (Nix) or as decoded from the machines fields. */
  attrs: Map<string, ReadAttr>;
  /** False when attributes may exist that could not be read. */
  complete: boolean;
  /** Defined under a condition that is not known. */
  conditional: boolean;
  /**
   * For a builder that is an item of a nix.buildMachines list: the item's thunk
   * and what it evaluated, to evaluate it again after a keystroke inside it.
   */
  origin?: { thunk: Thunk; expression: ThunkExpression };
}

export interface KnownHost {
  /** The attribute name under programs.ssh.knownHosts. */
  name: string;
  file: string;
  nameSpan?: Span;
  span: Span;
  /** The attributes of all its definitions merged (a later definition's value wins). */
  attrs: Map<string, ReadAttr>;
  complete: boolean;
  /** Each definition of the entry on its own (the same host may be defined in several files). */
  definitions: { file: string; span: Span; attrs: Map<string, ReadAttr> }[];
}

/** A `key = value` line of nix.extraOptions (nix.conf syntax). */
export interface ConfLine {
  key: string;
  value: string;
  span: Span;
  valueSpan: Span;
}

export interface Model {
  files: string[];
  /** The text of every file read, for fixes that look at indentation or syntax. */
  texts: Map<string, string>;
  builders: Builder[];
  knownHosts: KnownHost[];
  /** The programs.ssh.knownHosts definitions (partial: entries may exist that could not be read). */
  knownHostsDefs: Definitions;
  /** Every definition of programs.ssh.extraConfig, as strings with their source map. */
  sshExtraConfig: StringValue[];
  /** The Host / Match blocks of those strings, with document ranges. */
  sshBlocks: import('./ssh-config').SshBlock[];
  /** networking.hosts: address → names. */
  networkingHosts: Definitions;
  distributedBuilds: Definitions;
  /** The nix.buildMachines definitions themselves (for type checks of the option). */
  buildMachines: Definitions;
  settings: {
    builders: Definitions;
    maxJobs: Definitions;
    buildersUseSubstitutes: Definitions;
    /** `builders = …` / `max-jobs = …` lines of nix.extraOptions. */
    extraOptions: ConfLine[];
    /** Some nix.extraOptions text could not be read: it may hold more lines. */
    extraOptionsPartial: boolean;
  };
  /** The local system (nixpkgs.hostPlatform / nixpkgs.system), when set. */
  hostSystem?: string;
  /** Problems found while reading machines text (machines-syntax). */
  machinesProblems: import('./diagnostic').Diagnostic[];
}

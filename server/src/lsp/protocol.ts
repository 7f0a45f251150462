// The custom protocol between the language server and its clients (the VS Code
// extension imports this file; other LSP clients implement what they need).
// Types only, plus the names: nothing here runs.
//
// Probing builders over SSH (SPEC §1.5, §2.2 host-key-changed) happens ONLY
// when the client executes one of the commands below (workspace/executeCommand;
// the server lists them in InitializeResult.capabilities.executeCommandProvider)
// and ONLY in a trusted workspace. Listing code actions never probes: the
// probe code actions carry a `command` with the arguments below.
//
// Host key confirmation (trust on first use must be a conscious decision):
// before "Fetch host key" edits anything, the server sends the request
// `nixBuilders/confirmHostKey` to the client, which shows the host, address and
// fingerprint and answers `true` only when the user accepted the key. A client
// declares that it implements the request with
// `initializationOptions.confirmHostKey: true`; a client that does not gets no
// edit (the server explains why with window/showMessage).
//
// Progress and cancellation: every command reports LSP work done progress, on
// the `workDoneToken` of the executeCommand params when the client gave one,
// else on a token the server creates (window/workDoneProgress/create, when the
// client has `window.workDoneProgress`); cancelling that progress
// (window/workDoneProgress/cancel) or the request ($/cancelRequest) ends the
// probes at once.
//
// Edits are sent with workspace/applyEdit (nothing is written to disk by the
// server); messages for the user with window/showMessage, and, when a probe
// is refused because the host key is unknown, window/showMessageRequest
// offering "Fetch host key".

import type { ProbeErrorKind } from '../probe/probe';

/** Commands (workspace/executeCommand). */
export const Commands = {
  /** Arguments: [FetchHostKeyArgs]. Result: FetchHostKeyResult. */
  fetchHostKey: 'nixBuilders.fetchHostKey',
  /** Arguments: [BuilderRef]. Result: FillResult. */
  fillSystemsAndFeatures: 'nixBuilders.fillSystemsAndFeatures',
  /** Arguments: [] or [ProbeAllArgs]. Result: ProbeAllResult (an array of BuilderReport). */
  probeAllBuilders: 'nixBuilders.probeAllBuilders',
} as const;

export const ALL_COMMANDS: readonly string[] = Object.values(Commands);

/** Server → client request: may this host key be trusted? Params ConfirmHostKeyParams, result `boolean`. */
export const CONFIRM_HOST_KEY_REQUEST = 'nixBuilders/confirmHostKey';

/** Client → server notification (already implemented): the workspace trust changed. */
export const DID_CHANGE_TRUST_NOTIFICATION = 'nixBuilders/didChangeTrust';
export interface DidChangeTrustParams {
  trusted: boolean;
}

/** initializationOptions the server reads. */
export interface InitializationOptions {
  /** Workspace trust (default true). Untrusted: no lookups, no files outside the workspace, no probes. */
  trusted?: boolean;
  /** The client implements `nixBuilders/confirmHostKey` (default false: Fetch host key never edits). */
  confirmHostKey?: boolean;
  /** Settings for a client without workspace/configuration (the `nixBuilders` section). */
  settings?: unknown;
}

/** Which builder a command is for: as the server put it in a code action's arguments. */
export interface BuilderRef {
  /** The document (as the client knows it). */
  uri: string;
  /** UTF-16 offset in the document of the builder's hostName value (or anywhere inside the builder). */
  offset: number;
  /** The hostName as written when the action was listed: the builder is found again by it if the text moved. */
  hostName?: string;
}

/** Where "Fetch host key" puts the key. */
export type HostKeyTarget = 'knownHosts' | 'publicHostKey';

export interface FetchHostKeyArgs extends BuilderRef {
  /** Default 'knownHosts': a programs.ssh.knownHosts entry covering every name ssh looks up. */
  target?: HostKeyTarget;
}

/** `nixBuilders/confirmHostKey` params: everything the user needs to decide. */
export interface ConfirmHostKeyParams {
  /** The builder's hostName as written (an ssh_config alias, a name, `host:port`). */
  host: string;
  /** The address connected to (an IP address, or the name when it was not resolved here). */
  address: string;
  port: number;
  /** The name root's ssh looks the key up under (HostKeyAlias, host, or [host]:port). */
  lookupName: string;
  /** ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, … */
  keyType: string;
  /** "SHA256:…" as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** The whole `ssh-keygen -l` line: "256 SHA256:… [127.0.0.1]:2222 (ED25519)". */
  fingerprintLine: string;
  /** The public key line "type base64". */
  publicKey: string;
  /** Where the key will go. */
  target: HostKeyTarget;
  /** For knownHosts: the host names the new entry lists. */
  hostNames?: string[];
  /** The edit's title ("Add the key to programs.ssh.knownHosts.b"). */
  editTitle: string;
}

/** Why a command did not edit. */
export type RefusedReason =
  | 'untrusted'
  | 'no-builder'
  | 'not-probeable'
  | 'probe-failed'
  | 'host-key-unknown'
  | 'host-key-changed'
  | 'host-key-matches'
  | 'no-confirmation-support'
  | 'declined'
  | 'no-edit'
  | 'edit-rejected'
  | 'cancelled';

export interface FetchHostKeyResult {
  applied: boolean;
  reason?: RefusedReason;
  /** Human-readable, as also shown with window/showMessage. */
  message: string;
  /** The key the builder showed (absent when no key exchange happened). */
  hostKey?: { type: string; key: string; fingerprint: string };
}

export interface FillResult {
  applied: boolean;
  reason?: RefusedReason;
  message: string;
  /** What the builder reported. */
  systems?: string[];
  features?: string[];
  /** Notes: shared bindings, agent login, trust, PATH problems on the builder. */
  notes?: string[];
}

export interface ProbeAllArgs {
  /** Only the builders of these documents (default: every builder of the workspace). */
  uris?: string[];
}

/** Host key status of one builder in a probe-all report. */
export type HostKeyStatus = 'matches' | 'changed' | 'unknown' | 'not-checked';

/** Error kinds of a probe (server/src/probe/probe.ts) plus 'not-probed' (the builder could not be probed from here). */
export type ProbeErrorKindName = ProbeErrorKind | 'not-probed';

export interface BuilderReport {
  /** The builder's hostName as written (an ssh_config alias, a name, an address, `host:port`). */
  host: string;
  /** When `host` is an ssh_config alias: the HostName it stands for (where ssh connects). */
  hostName?: string;
  /** Where the builder is: document URI and range of its hostName (or of the builder). */
  uri: string;
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  /** The address connected to (an IP address, or the name when not resolved here). */
  address?: string;
  port?: number;
  user?: string;
  /** The SSH server answered (key exchange done). */
  reachable: boolean;
  error?: { kind: ProbeErrorKindName; message: string };
  hostKeyStatus: HostKeyStatus;
  /** The key the builder showed. */
  hostKey?: { type: string; key: string; fingerprint: string };
  nixVersion?: string;
  /** `system` followed by `extra-platforms`. */
  systems?: string[];
  features?: string[];
  /** The login user is in the builder's trusted-users (absent when unknown). */
  trusted?: boolean;
  /** Duration of the TCP connect, ms. */
  rttMs?: number;
  notes?: string[];
}

/**
 * One report per builder, in the order of the configuration. Empty when
 * nothing was probed (untrusted workspace: the server says why with
 * window/showMessage). Cancelled probes report error kind 'cancelled'.
 */
export type ProbeAllResult = BuilderReport[];

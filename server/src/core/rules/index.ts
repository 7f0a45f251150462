// Every diagnostic rule, in the order their diagnostics are listed.
import { badKnownHostKey } from './bad-known-host-key';
import { badPublicHostKey } from './bad-public-host-key';
import { buildersList } from './builders-list';
import { distributedBuildsOff } from './distributed-builds-off';
import { duplicateBuilder } from './duplicate-builder';
import { hostNameHasScheme } from './host-name-has-scheme';
import { invalidMaxJobs } from './invalid-max-jobs';
import { invalidProtocol } from './invalid-protocol';
import { invalidSpeedFactor } from './invalid-speed-factor';
import { localBuildsDisabled } from './local-builds-disabled';
import { machinesSyntax } from './machines-syntax';
import { missingHostKey } from './missing-host-key';
import { hostKeyNameMismatch } from './host-key-name-mismatch';
import { unresolvedHost } from './unresolved-host';
import { mandatoryFeatures } from './mandatory-features';
import { missingHostName } from './missing-host-name';
import { missingSystem } from './missing-system';
import type { Rule } from './rule';
import { sshKeyPath } from './ssh-key-path';
import { systemShadowsSystems } from './system-shadows-systems';
import { unknownAttribute } from './unknown-attribute';
import { unknownFeature } from './unknown-feature';
import { unknownSystem } from './unknown-system';
import { wrongType } from './wrong-type';

export const RULES: readonly Rule[] = [
  unknownAttribute,
  wrongType,
  missingHostName,
  hostNameHasScheme,
  missingSystem,
  systemShadowsSystems,
  unknownSystem,
  unknownFeature,
  invalidProtocol,
  invalidMaxJobs,
  invalidSpeedFactor,
  badPublicHostKey,
  badKnownHostKey,
  sshKeyPath,
  mandatoryFeatures,
  duplicateBuilder,
  distributedBuildsOff,
  buildersList,
  localBuildsDisabled,
  unresolvedHost,
  missingHostKey,
  hostKeyNameMismatch,
  machinesSyntax,
];

/** Codes reported outside the rules: host-key-changed comes from an SSH probe. */
export const NETWORK_CODES = ['host-key-changed'] as const;

// local-builds-disabled: max-jobs = 0 forces every build onto a builder; with no
// builder that can take the local system's builds, nothing can be built.
import type { Diagnostic } from '../diagnostic';
import { unwrap, winning } from '../eval/module';
import type { Value } from '../eval/value';
import type { Builder, Model } from '../model';
import type { Span } from '../span';
import { attr, diag, knownStrings, type Rule } from './rule';

function maxJobsZero(model: Model): Span | undefined {
  for (const def of winning(model.settings.maxJobs.defs)) {
    const v = unwrap(def.value);
    if (v?.kind === 'int' && v.value === 0) return v.span;
  }
  const line = model.settings.extraOptions.find((l) => l.key === 'max-jobs' && l.value === '0');
  return line?.valueSpan;
}

/** true / false when known; undefined when the reader cannot tell. */
function canTake(b: Builder, system: string | undefined): boolean | undefined {
  if (b.conditional || !b.complete) return undefined;
  const jobs = attr(b, 'maxJobs')?.value;
  if (jobs && jobs.kind !== 'int') return undefined;
  if (jobs?.kind === 'int' && jobs.value <= 0) return false;
  if (!system) return true;
  const one = attr(b, 'system')?.value;
  if (one?.kind === 'string') return one.value === system;
  const many: Value | undefined = attr(b, 'systems')?.value;
  if (!many) return b.source === 'nix' ? false : true;
  if (many.kind !== 'list') return undefined;
  if (knownStrings(many).some((s) => s.value === system)) return true;
  return many.complete ? false : undefined;
}

export const localBuildsDisabled: Rule = {
  code: 'local-builds-disabled',
  summary: 'max-jobs = 0 and no builder can take the local system\'s builds.',
  check(model) {
    const span = maxJobsZero(model);
    if (!span) return [];
    const distributed = model.distributedBuilds.defs.map((d) => unwrap(d.value));
    const on = distributed.some((v) => v?.kind === 'bool' && v.value);
    const unknownOn = distributed.some((v) => v && v.kind !== 'bool') || model.distributedBuilds.partial;
    const usable = model.builders.filter((b) => b.source !== 'nix' || on || unknownOn);
    if (model.buildMachines.partial) return [];
    // A `builders` setting or nix.extraOptions text that the reader cannot read may name a usable builder.
    const settings = model.settings.builders;
    if (settings.partial || winning(settings.defs).some((d) => unwrap(d.value)?.kind === 'unknown')) return [];
    if (model.settings.extraOptionsPartial) return [];
    let any: boolean | undefined = false;
    for (const b of usable) {
      const t = canTake(b, model.hostSystem);
      if (t === true) return [];
      if (t === undefined) any = undefined;
    }
    if (any === undefined || (!on && unknownOn && usable.length > 0)) return [];
    const why =
      model.builders.length === 0
        ? 'no builder is defined'
        : !on && usable.length === 0
          ? 'nix.distributedBuilds is not true, so the builders are not used'
          : `no builder can build for ${model.hostSystem ?? 'this machine'} with maxJobs > 0`;
    const out: Diagnostic[] = [
      diag(
        'local-builds-disabled',
        'error',
        span,
        `max-jobs = 0 disables local builds, but ${why}: every build (even nixos-rebuild) fails with "unable to start any build". Add a usable builder or set max-jobs to a positive number or "auto".`,
      ),
    ];
    return out;
  },
};

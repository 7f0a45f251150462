// Follows `imports = [ ./x.nix ./dir ]` between files. Paths may be plain
// file paths (CLI) or file:// URIs (language server); both resolve the same way.
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { unwrap } from './eval/module';
import type { ModuleRoot } from './eval/module';

/** Resolves a path literal written in `fromFile` to the same kind of name (path or URI). */
export function resolveFrom(fromFile: string, written: string): string {
  if (fromFile.startsWith('file://')) {
    const abs = path.resolve(path.dirname(fileURLToPath(fromFile)), written);
    return pathToFileURL(abs).toString();
  }
  return path.resolve(path.dirname(fromFile), written);
}

/** The files a module imports, as candidates: `x` itself, and `x/default.nix` for a folder. */
export function importedFiles(root: ModuleRoot): string[][] {
  const v = root.imports && unwrap(root.imports);
  if (!v || v.kind !== 'list') return [];
  const out: string[][] = [];
  for (const t of v.items) {
    const item = unwrap(t.force());
    if (!item || item.kind !== 'path' || item.value.startsWith('~') || item.value.startsWith('<')) continue;
    const target = resolveFrom(root.file, item.value);
    out.push(target.endsWith('.nix') ? [target] : [target, target.startsWith('file://') ? `${target}/default.nix` : path.join(target, 'default.nix')]);
  }
  return out;
}

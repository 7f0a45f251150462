// Finds the files a CLI run checks: .nix files below folders, and machines files.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMachinesFile } from '../core/analyze';

const SKIP_DIRS = new Set(['.git', 'node_modules', '.direnv']);

export function collectFiles(paths: string[]): { files: string[]; missing: string[] } {
  const files: string[] = [];
  const missing: string[] = [];
  for (const p of paths) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      missing.push(p);
      continue;
    }
    if (st.isFile()) files.push(p);
    else if (st.isDirectory()) walk(p, files);
  }
  return { files: [...new Set(files)], missing };
}

function walk(dir: string, out: string[]): void {
  // Iterative: deep trees must not overflow the stack.
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop() as string;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? 1 : -1))) {
      const full = path.join(d, e.name);
      // `result` links point into the store (nix build outputs): never follow them.
      if (e.isSymbolicLink()) continue;
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) stack.push(full);
      } else if (e.isFile() && (e.name.endsWith('.nix') || isMachinesFile(e.name))) {
        out.push(full);
      }
    }
  }
  out.sort();
}

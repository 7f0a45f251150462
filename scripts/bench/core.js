// The analysis core for the benchmarks, bundled once per process with esbuild
// into ONE module (so that the phases measured one by one share their classes):
// analyze and its phases (readModule, extractModel, HostAnalysis, runRules),
// the parser and NixDocument.
'use strict';
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
let loaded;

function loadBenchCore() {
  if (loaded) return loaded;
  const outfile = path.join(root, 'test-out', 'bench', 'core.js');
  const result = esbuild.buildSync({
    stdin: {
      contents: [
        "export { analyze, runRules } from './server/src/core/analyze';",
        "export { parseNix } from './server/src/core/parser';",
        "export { NixDocument } from './server/src/core/document';",
        "export { readModule } from './server/src/core/eval/module';",
        "export { extractModel } from './server/src/core/extract';",
        "export { HostAnalysis } from './server/src/core/hosts';",
        "export { OFFLINE } from './server/src/core/environment';",
        "export { LineIndex } from './server/src/core/span';",
      ].join('\n'),
      resolveDir: root,
      sourcefile: 'bench-core.ts',
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['tree-sitter'],
    outfile,
    write: false,
    logLevel: 'silent',
  });
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  for (const file of result.outputFiles) {
    const tmp = `${file.path}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, file.contents);
    fs.renameSync(tmp, file.path);
  }
  loaded = require(outfile);
  return loaded;
}

module.exports = { loadBenchCore };

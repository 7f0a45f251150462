// The analysis core for the benchmarks, bundled once per process with esbuild
// into ONE module (so that the phases measured one by one share their classes):
// analyze and its phases (readModule, extractModel, HostAnalysis, runRules),
// the parser, NixDocument, and the CLI's environment (`--offline`).
'use strict';
const path = require('node:path');
const { bundleAndRequire } = require('../../test/helpers/load-server');

const root = path.resolve(__dirname, '..', '..');
let loaded;

function loadBenchCore() {
  loaded ??= bundleAndRequire(
    {
      stdin: {
        contents: [
          "export { analyze, resetCaches, runRules } from './server/src/core/analyze';",
          "export { parseNix } from './server/src/core/parser';",
          "export { NixDocument } from './server/src/core/document';",
          "export { readModule } from './server/src/core/eval/module';",
          "export { extractModel } from './server/src/core/extract';",
          "export { HostAnalysis } from './server/src/core/hosts';",
          "export { cliEnvironment } from './server/src/cli/environment';",
          "export { LineIndex } from './server/src/core/span';",
        ].join('\n'),
        resolveDir: root,
        sourcefile: 'bench-core.ts',
        loader: 'ts',
      },
      external: [],
    },
    path.join(root, 'test-out', 'bench', 'core.js'),
  );
  return loaded;
}

module.exports = { loadBenchCore };

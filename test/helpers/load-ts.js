// Loads a core TypeScript module for the tests: loadCore('analyze') bundles
// server/src/core/analyze.ts (see load-server.js) and requires it.
'use strict';
const { loadServer } = require('./load-server');

function loadCore(relPath) {
  return loadServer(`core/${relPath}`);
}

module.exports = { loadCore };

// Shared by the e2e launchers: a fresh copy of the fixture workspace (plus the
// example module) for every run, and the user settings the window starts with.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const fixtures = path.join(__dirname, 'fixtures', 'workspace');
const example = path.join(root, 'examples', 'distributed-builds.nix');

/** Copies the fixtures and examples/distributed-builds.nix into a new folder `dir`. */
function prepareWorkspace(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.cpSync(fixtures, dir, { recursive: true });
  fs.copyFileSync(example, path.join(dir, 'distributed-builds.nix'));
  return dir;
}

/**
 * User settings: nothing written behind the test's back (no auto save), no
 * welcome page or AI panels, and a language server that reads no file and
 * does no DNS lookup outside the workspace, so results do not depend on the
 * machine.
 */
const USER_SETTINGS = {
  'files.autoSave': 'off',
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.enableExperiments': false,
  'chat.disableAIFeatures': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'security.workspace.trust.enabled': false,
  'editor.quickSuggestions': { other: false, comments: false, strings: false },
  'nixBuilders.lookups.enable': false,
  'nixBuilders.sshConfigFiles': [],
  'nixBuilders.knownHostsFiles': [],
};

function writeUserSettings(userDataDir, extra = {}) {
  const dir = path.join(userDataDir, 'User');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'settings.json'), `${JSON.stringify({ ...USER_SETTINGS, ...extra }, null, 2)}\n`);
}

module.exports = { root, prepareWorkspace, writeUserSettings, USER_SETTINGS };

// UI checks: what a person sees and does in the workbench, driven with
// playwright-core (run by run-code-server.js against the same code-server).
// Screenshots go to .e2e/artifacts/.
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startSshd, sshdSkipReason } = require('./suite/sshd');

const EXAMPLE = 'distributed-builds.nix';

async function loadWorkbench(page, url) {
  await page.goto(url);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  // The explorer shows the workspace once the remote file system answers.
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: EXAMPLE }).first().waitFor({ timeout: 60_000 });
}

async function openFile(page, name) {
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').first().waitFor();
  await page.keyboard.type(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator('.tab.active', { hasText: name }).waitFor();
  await page.locator('.editor-instance .monaco-editor .view-lines').first().waitFor();
}

async function runCommand(page, title) {
  await page.keyboard.press('Control+Shift+P');
  await page.locator('.quick-input-widget input').first().waitFor();
  await page.keyboard.type(title);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await page.keyboard.press('Enter');
}

async function goTo(page, line, column) {
  await page.keyboard.press('Control+G');
  await page.locator('.quick-input-widget input').first().waitFor();
  await page.keyboard.type(`${line}:${column}`);
  await page.keyboard.press('Enter');
}

/** The text of the visible lines of the active editor (Monaco renders spaces as NBSP). */
function visibleText(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('.editor-group-container.active .view-lines .view-line')]
      .map((l) => (l.textContent ?? '').replace(/\u00a0/g, ' '))
      .join('\n'),
  );
}

async function waitForText(page, predicate, what, ms = 30_000) {
  const end = Date.now() + ms;
  for (;;) {
    const text = await visibleText(page);
    if (predicate(text)) return text;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}; visible:\n${text}`);
    await page.waitForTimeout(100);
  }
}

/** 1-based line and column of `offset` in `text`. */
function lineColumn(text, offset) {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

const quickFix = {
  name: 'a typo gets a squiggle, Ctrl+. offers the fix, applying it restores the text',
  slug: 'quick-fix',
  async run({ page, url, workspace, artifacts }) {
    await loadWorkbench(page, url);
    await openFile(page, EXAMPLE);
    const file = path.join(workspace, EXAMPLE);
    const original = fs.readFileSync(file, 'utf8');
    // Delete the "u" of "aarch64-linux": a misspelt system.
    const at = lineColumn(original, original.indexOf('"aarch64-linux"') + '"aarch64-lin'.length);
    await goTo(page, at.line, at.column);
    await page.keyboard.press('Delete');
    await waitForText(page, (t) => t.includes('"aarch64-linx"'), 'the typo');
    const squiggles = page.locator('.editor-group-container.active .squiggly-warning');
    await squiggles.first().waitFor({ timeout: 60_000 });
    await page.screenshot({ path: path.join(artifacts, 'quick-fix-1-squiggle.png') });

    // Ctrl+. pressed while the editor is still busy with the edit can open nothing
    // (seen once on a loaded machine): press it again rather than wait forever.
    const row = page.locator('.action-widget .monaco-list-row', { hasText: 'aarch64-linux' }).first();
    for (let attempt = 1; ; attempt++) {
      await page.keyboard.press('Control+.');
      try {
        await row.waitFor({ timeout: 10_000 });
        break;
      } catch (err) {
        if (attempt === 3) throw err;
        await page.keyboard.press('Escape');
      }
    }
    await page.screenshot({ path: path.join(artifacts, 'quick-fix-2-menu.png') });
    await row.click();

    await waitForText(page, (t) => t.includes('"aarch64-linux"') && !t.includes('"aarch64-linx"'), 'the fixed text');
    await page.waitForFunction(() => document.querySelectorAll('.editor-group-container.active .squiggly-warning').length === 0, null, {
      timeout: 30_000,
    });
    await page.screenshot({ path: path.join(artifacts, 'quick-fix-3-fixed.png') });

    await page.keyboard.press('Control+S');
    const end = Date.now() + 10_000;
    while (fs.readFileSync(file, 'utf8') !== original && Date.now() < end) await page.waitForTimeout(100);
    assert.equal(fs.readFileSync(file, 'utf8'), original, 'the saved file is the original again');
  },
};

const machinesView = {
  name: 'the command palette opens the /etc/nix/machines view of the example',
  slug: 'machines-view',
  async run({ page, url, artifacts }) {
    await loadWorkbench(page, url);
    await openFile(page, EXAMPLE);
    await runCommand(page, 'Nix Builders: Show /etc/nix/machines');
    await page.locator('.tab.active', { hasText: 'machines' }).waitFor({ timeout: 30_000 });
    await waitForText(
      page,
      (t) => t.includes('ssh://ryan@aquamarine x86_64-linux,aarch64-linux,riscv64-linux /home/ryan/.ssh/ai-idols 3 1'),
      'the machines lines',
    );
    await page.screenshot({ path: path.join(artifacts, 'machines-view.png') });
    // Read-only: typing changes nothing, and the editor says why.
    const before = await visibleText(page);
    await page.locator('.editor-group-container.active .view-lines').first().click();
    await page.keyboard.type('x');
    await page.locator('.monaco-editor-overlaymessage', { hasText: /read-only/i }).first().waitFor({ timeout: 10_000 });
    assert.equal(await visibleText(page), before);
  },
};

const fetchHostKeyDialog = {
  name: 'Fetch host key shows a modal with host, address and fingerprint; Trust this key adds the key',
  slug: 'fetch-host-key',
  async run({ page, url, workspace, artifacts }) {
    const skip = sshdSkipReason();
    if (skip) {
      console.log(`    (skipped: ${skip})`);
      return;
    }
    const sshd = await startSshd();
    try {
      const name = 'probe-ui.nix';
      const text = `{ ... }:
{
  nix.buildMachines = [
    {
      hostName = "probe-ui";
      system = "x86_64-linux";
      sshUser = "root";
      sshKey = "${sshd.clientKey}";
    }
  ];
  programs.ssh.extraConfig = ''
    Host probe-ui
      HostName 127.0.0.1
      Port ${sshd.port}
  '';
}
`;
      fs.writeFileSync(path.join(workspace, name), text);
      await loadWorkbench(page, url);
      await openFile(page, name);
      const squiggles = page.locator('.editor-group-container.active .squiggly-warning');
      await squiggles.first().waitFor({ timeout: 60_000 });
      const at = lineColumn(text, text.indexOf('"probe-ui"') + 3);
      await goTo(page, at.line, at.column);
      await runCommand(page, 'Nix Builders: Fetch Host Key for Builder Under Cursor');
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.waitFor({ timeout: 30_000 });
      const shown = (await dialog.innerText()).replace(/\u00a0/g, ' ');
      for (const s of ['probe-ui', `127.0.0.1:${sshd.port}`, sshd.fingerprint, 'ssh-ed25519', 'programs.ssh.knownHosts', 'Trust this key', 'Cancel']) {
        assert.ok(shown.includes(s), `"${s}" in the dialog:\n${shown}`);
      }
      await page.screenshot({ path: path.join(artifacts, 'fetch-host-key-1-dialog.png') });
      await dialog.locator('.monaco-button', { hasText: 'Trust this key' }).click();
      await dialog.waitFor({ state: 'detached', timeout: 10_000 });
      // The knownHosts entry (in the example's programs.ssh.knownHosts) silences missing-host-key.
      await page.waitForFunction(() => document.querySelectorAll('.editor-group-container.active .squiggly-warning').length === 0, null, {
        timeout: 30_000,
      });
      await page.screenshot({ path: path.join(artifacts, 'fetch-host-key-2-trusted.png') });
    } finally {
      sshd.stop();
    }
  },
};

const UI_TESTS = [quickFix, machinesView, fetchHostKeyDialog];

module.exports = { UI_TESTS };

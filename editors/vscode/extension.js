// Starts `drvmc lsp` (the language server over stdio) for .drv files.
'use strict';

const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration('drvmc');
  const [command, ...prefix] = config.get('command', ['drvmc']);
  const libArgs = config.get('libPath', []).flatMap((dir) => ['--lib-path', dir]);
  const run = { command, args: [...prefix, 'lsp', ...libArgs] };
  client = new LanguageClient(
    'drvmc',
    'drvmc language server',
    { run, debug: run },
    { documentSelector: [{ scheme: 'file', language: 'drv' }] },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

// Loads tree-sitter and the project's own N-API build of the tree-sitter-nix grammar.
import * as fs from 'node:fs';
import * as path from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- tree-sitter is a CommonJS export=
import Parser = require('tree-sitter');

export type SyntaxNode = Parser.SyntaxNode;
export type Tree = Parser.Tree;

let language: unknown;

/** Finds build/Release/tree_sitter_nix_binding.node next to the source tree or the bundle. */
function loadLanguage(): unknown {
  if (language) return language;
  // The bundle (server/out, client/out, test-out) and the sources sit at different
  // depths below the project root: look upwards.
  const candidates = process.env.NIX_BUILDERS_GRAMMAR ? [process.env.NIX_BUILDERS_GRAMMAR] : [];
  for (let dir = __dirname, i = 0; i < 5; i++, dir = path.dirname(dir)) {
    candidates.push(path.join(dir, 'build/Release/tree_sitter_nix_binding.node'));
  }
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) {
    throw new Error(
      `nix-builders: the tree-sitter-nix grammar is not built (looked for ${candidates.join(', ')}). Run \`npm install\` in the project.`,
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const lang = require(found) as { nodeTypeInfo?: unknown };
  // node-tree-sitter reads nodeTypeInfo to build its node subclasses; an empty list is enough.
  lang.nodeTypeInfo = [];
  language = lang;
  return lang;
}

let shared: Parser | undefined;

export function createParser(): Parser {
  const parser = new Parser();
  parser.setLanguage(loadLanguage() as Parser.Language);
  return parser;
}

/** Parses Nix text, incrementally when the previous (already edited) tree is given. */
export function parseNix(text: string, oldTree?: Tree): Tree {
  shared ??= createParser();
  // Nix ends a line (and a `#` comment) at a lone \r too; the grammar only at
  // \n, so a file with old Mac line ends would read as one comment. Same
  // length, so every offset (and LineIndex position) stays the same.
  const input = text.includes('\r') ? text.replace(/\r(?!\n)/g, '\n') : text;
  // The default 32 KiB buffer splits large inputs into many callbacks; one string is faster.
  return shared.parse(input, oldTree, { bufferSize: Math.max(32 * 1024, input.length + 1) });
}

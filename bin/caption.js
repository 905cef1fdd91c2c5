#!/usr/bin/env node
// `npx caption` / `npm run caption --`: captions files and folders (see --help).
// In a checkout it runs the TypeScript sources (ts-node, transpile only), so it never runs a
// stale build; where dev dependencies are absent (a production install) it runs the build.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const source = join(root, 'service', 'src', 'cli', 'caption', 'caption-cli.ts');
let tsNode;
try {
  tsNode = require.resolve('ts-node', { paths: [root] });
} catch {
  tsNode = undefined;
}
if (tsNode && existsSync(source)) {
  require(tsNode).register({ transpileOnly: true, project: join(root, 'tsconfig.json') });
  require(source).main();
} else {
  require(join(root, 'dist', 'cli', 'caption', 'caption-cli.js')).main();
}

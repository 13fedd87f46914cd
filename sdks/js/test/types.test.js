// The TypeScript side: the generated schema matches openapi.json, a typed example compiles,
// every runtime export is declared, and the package ships its types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as sdk from '../src/index.js';
import { OUTPUT, generateSchema } from '../scripts/generate-schema.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

test('src/schema.d.ts is what openapi-typescript generates from openapi.json (npm run generate)', async () => {
  const committed = readFileSync(OUTPUT, 'utf8');
  assert.ok(committed === await generateSchema(),
    'src/schema.d.ts is out of date with openapi.json: run `npm run generate` in sdks/js');
});

test('tsc --noEmit over a typed example (strict), through the package name', () => {
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  try {
    execFileSync(process.execPath, [tsc, '-p', 'test/types'], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    assert.fail(`tsc failed:\n${err.stdout}${err.stderr}`);
  }
});

test('every runtime export is declared in index.d.ts', () => {
  const declarations = readFileSync(new URL('../src/index.d.ts', import.meta.url), 'utf8');
  for (const name of Object.keys(sdk)) {
    if (name === 'default') {
      assert.match(declarations, /export default Botcadence;/);
      continue;
    }
    assert.match(declarations, new RegExp(`export declare (class|function|const) ${name}\\b`), name);
  }
});

test('npm pack ships the code and its types, and nothing else', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  const files = JSON.parse(out)[0].files.map((f) => f.path).sort();
  for (const wanted of ['package.json', 'README.md', 'src/index.js', 'src/index.d.ts', 'src/schema.d.ts',
    'src/client.js', 'src/resources.js', 'src/signatures.js']) {
    assert.ok(files.includes(wanted), `${wanted} missing from the package: ${files.join(', ')}`);
  }
  assert.deepEqual(files.filter((f) => !/^(package\.json|README\.md|LICENSE|src\/[\w.-]+\.(js|d\.ts))$/.test(f)), []);
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  assert.equal(pkg.name, '@botcadence/sdk');
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.exports['.'].types, './src/index.d.ts');
  assert.equal(pkg.dependencies, undefined, 'no runtime dependencies');
  for (const [name, version] of Object.entries(pkg.devDependencies)) {
    assert.match(version, /^\d+\.\d+\.\d+$/, `${name} is pinned exactly`);
  }
});

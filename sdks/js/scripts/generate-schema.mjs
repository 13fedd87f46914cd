// Generates src/schema.d.ts from the repository's openapi.json with openapi-typescript.
//
//   node scripts/generate-schema.mjs          write src/schema.d.ts
//   node scripts/generate-schema.mjs --check  exit 1 when the committed file differs
//
// One adjustment to what openapi-typescript writes by itself: TemplateValue (any JSON value)
// refers to itself, and the generated `components["schemas"]["TemplateValue"][]` is a
// circular reference TypeScript refuses (TS2502). It is written as a recursive type alias
// instead, which TypeScript accepts.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import openapiTS, { COMMENT_HEADER, astToString } from 'openapi-typescript';
import ts from 'typescript';

export const SPEC = fileURLToPath(new URL('../../../openapi.json', import.meta.url));
export const OUTPUT = fileURLToPath(new URL('../src/schema.d.ts', import.meta.url));

const TEMPLATE_JSON = `/** Any JSON value; every string in it is a template (the schema TemplateValue). */
export type TemplateJson = string | number | boolean | null | TemplateJson[] | {
    [key: string]: TemplateJson;
};`;

/** The text schema.d.ts must have for the current openapi.json. */
export async function generateSchema() {
  const spec = JSON.parse(await readFile(SPEC, 'utf8'));
  const ast = await openapiTS(spec, {
    inject: TEMPLATE_JSON,
    transform(schema, options) {
      if (options.path === '#/components/schemas/TemplateValue') {
        return ts.factory.createTypeReferenceNode('TemplateJson');
      }
      return undefined;
    },
  });
  return COMMENT_HEADER + astToString(ast);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = await generateSchema();
  if (process.argv.includes('--check')) {
    const committed = await readFile(OUTPUT, 'utf8').catch(() => '');
    if (committed !== text) {
      console.error('src/schema.d.ts is out of date with openapi.json: run `npm run generate`');
      process.exit(1);
    }
    console.log('src/schema.d.ts is up to date');
  } else {
    await writeFile(OUTPUT, text);
    console.log(`wrote ${OUTPUT}`);
  }
}

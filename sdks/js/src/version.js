import { createRequire } from 'node:module';

// package.json is the one place the version is written; createRequire reads JSON on every
// Node version the package supports (import attributes differ between 18 and 20+).
const require = createRequire(import.meta.url);

/** This package's version, from package.json. */
export const VERSION = require('../package.json').version;

/** `botcadence-js/<version> (node <runtime version>)`, the same shape in every SDK. */
export const USER_AGENT = `botcadence-js/${VERSION} (node ${process.version})`;

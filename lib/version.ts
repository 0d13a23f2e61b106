/** The release, as in package.json (test/version.ts checks that they agree). */
export const VERSION = '0.1.0';

/**
 * The exports of a CommonJS package loaded with `import()`. Bundled as ESM (the CLI), they sit under
 * `default` only; under node or tsx they are also at the top. Read them here, never by destructuring
 * the module: `const { request } = await import('undici')` is undefined in the bundle.
 */
export function cjsExports<T>(mod: T): T {
  return (mod as { default?: T }).default ?? mod;
}

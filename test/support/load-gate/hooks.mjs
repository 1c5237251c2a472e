// Module hooks (they run on a thread of their own): the first module of dist/cli-bundle other than
// the entry writes `<gate>.waiting`, and every such module waits for `<gate>.open` before it loads.
import { existsSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

let gate;

export function initialize(data) {
  gate = data?.gate;
}

export async function load(url, context, nextLoad) {
  if (gate && url.includes('/dist/cli-bundle/') && !url.endsWith('/sm-local.mjs')) {
    if (!existsSync(`${gate}.waiting`)) writeFileSync(`${gate}.waiting`, url);
    while (!existsSync(`${gate}.open`)) await sleep(20);
  }
  return nextLoad(url, context);
}

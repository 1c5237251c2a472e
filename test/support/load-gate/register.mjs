// Preloaded with NODE_OPTIONS=--import: holds the CLI bundle's modules (all but its entry file) until
// the test opens the gate, so a signal can be sent while the CLI is still loading. See hooks.mjs.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url, { data: { gate: process.env.SM_LOCAL_TEST_LOAD_GATE } });

// Bundles the CLI into one file: start-up time is most of sm-local's overhead on a short job.
// dockerode's BuildKit modules (session: grpc; buildkit: protobufjs; ~1 MB together) are only used for
// `version: "2"` builds, which sm-local never requests, so they are replaced by a module that says so.
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

const noBuildKit = {
  name: 'no-buildkit-session',
  setup(b) {
    b.onResolve({ filter: /^\.\/(session|buildkit)$/ }, (args) =>
      args.importer.includes('dockerode') ? { path: args.path, namespace: 'no-buildkit' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'no-buildkit' }, () => ({
      contents: `const unsupported = () => { throw new Error('BuildKit is not included in the sm-local CLI bundle'); };
module.exports = unsupported;
module.exports.followProgress = unsupported;`,
      loader: 'js',
    }));
  },
};

// docker-modem requires its ssh agent (and with it ssh2's crypto) at load time; only DOCKER_HOST=ssh://
// needs it. This wrapper loads the real module on first use.
const lazySsh = {
  name: 'lazy-docker-modem-ssh',
  setup(b) {
    b.onResolve({ filter: /^\.\/ssh$/ }, (args) =>
      args.importer.includes('docker-modem') ? { path: join(dirname(args.importer), 'ssh.js'), namespace: 'lazy-ssh' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-ssh' }, (args) => ({
      contents: `module.exports = function lazySsh(opt) { return require(${JSON.stringify(args.path)})(opt); };`,
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

rmSync('dist/cli-bundle', { recursive: true, force: true });
const result = await build({
  // One entry file plus chunks: `serve` loads fastify and undici, `train` does not pay for them.
  entryPoints: { 'sm-local': 'src/cli/bin.ts' },
  outdir: 'dist/cli-bundle',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  minifyWhitespace: true,
  minifySyntax: true,
  // ssh2 (DOCKER_HOST=ssh://) and its optional native addon stay real requires, loaded only when used.
  external: ['ssh2', 'cpu-features'],
  banner: { js: "import { createRequire as __smLocalCreateRequire } from 'node:module'; const require = __smLocalCreateRequire(import.meta.url);" },
  plugins: [noBuildKit, lazySsh],
  logLevel: 'warning',
  metafile: true,
});
// What each output holds, for anyone trimming start-up: `npx esbuild --analyze` style data.
writeFileSync('dist/cli-bundle/meta.json', JSON.stringify(result.metafile));

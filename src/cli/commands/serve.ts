import type { Argv, CommandModule } from 'yargs';
import { whenAborted } from '../../abort.js';
import type { ServeFlags } from '../../config/serving-input.js';
import { EXIT, ServingStartupError } from '../../errors.js';
import type { RequestLogEntry } from '../../http/proxy-app.js';
import type { EndpointHandle } from '../../jobs/serving-runner.js';
import { withCommandContext, type CliIO, type GlobalArgs } from '../context.js';
import { traceOptions, traceSink } from '../trace-sink.js';
import { commonJobOptions, escapeHatchOptions, list, pickFlags } from '../options.js';

interface ServeArgs extends GlobalArgs {
  image?: string;
  'model-json'?: string | string[];
  'endpoint-config-json'?: string;
  'instance-count'?: number;
  model?: string;
  name?: string;
  env?: string[];
  'env-file'?: string[];
  port?: number;
  'startup-timeout'?: number;
  'invocation-timeout'?: number;
  'instance-type'?: string;
  'multi-model'?: string;
  'model-cache'?: string;
  json?: boolean;
  'shm-size'?: string;
  gpus?: string;
  platform?: string;
  publish?: string[];
  keep?: boolean;
  watch?: string[];
  trace?: boolean;
  'trace-file'?: string;
}


function requestLine(e: RequestLogEntry, showVariant: boolean): string {
  const extra = [e.errorType, e.detail].filter(Boolean).join(': ');
  return `[proxy] ${e.status} ${e.method} ${e.url} ${e.bytesIn} B in, ${e.bytesOut} B out, ${e.ms.toFixed(1)} ms${showVariant && e.variant ? `, variant ${e.variant}` : ''}${extra ? ` (${extra})` : ''}`;
}

export function serveCommand(io: CliIO, setExitCode: (code: number) => void): CommandModule<GlobalArgs, ServeArgs> {
  return {
    command: 'serve [image]',
    describe: 'Run <image> with the "serve" argument as a SageMaker endpoint, behind a proxy that answers like the SageMaker runtime',
    builder: (y: Argv<GlobalArgs>) =>
      traceOptions(escapeHatchOptions(commonJobOptions(y, { stopGraceDefault: 30 }), { publishTo: 'the (first) container', keep: 'Keep the containers (stopped) and workspaces after the endpoint stops, for debugging' }))
        .positional('image', { type: 'string', describe: 'Inference image (must already be in the Docker engine; never pulled)' })
        .option('model', { type: 'string', describe: 'Model folder (mounted read-only) or model.tar.gz (extracted first) for /opt/ml/model' })
        .option('model-json', { type: 'string', coerce: list, describe: 'CreateModel request JSON (PrimaryContainer, or Containers and InferenceExecutionConfig for a multi-container model); repeat it for the models an --endpoint-config-json names' })
        .option('endpoint-config-json', { type: 'string', describe: 'CreateEndpointConfig request JSON: its ProductionVariants (ModelName, InitialInstanceCount, InitialVariantWeight) all run, routed by weight or TargetVariant' })
        .option('instance-count', { type: 'number', describe: 'InitialInstanceCount: that many copies of the model behind the variant, taking requests in turn (default 1)' })
        .option('multi-model', { type: 'string', describe: 'A multi-model endpoint: the folder of model .tar.gz files (the S3 prefix); TargetModel names one (sm-local invoke --target-model)' })
        .option('model-cache', { type: 'string', choices: ['Enabled', 'Disabled'], describe: 'MultiModelConfig.ModelCacheSetting: Disabled unloads each model after its call' })
        .option('name', { type: 'string', describe: 'EndpointName (default: the image name, or ModelName)' })
        .option('port', { type: 'number', describe: 'Proxy port on 127.0.0.1 (default 8080, or a free one if it is taken; 0 for any free port)' })
        .option('startup-timeout', { type: 'number', describe: 'Seconds to pass GET /ping (ContainerStartupHealthCheckTimeoutInSeconds; default 240)' })
        .option('invocation-timeout', { type: 'number', describe: 'InvokeEndpoint deadline in seconds (SageMaker: 60; may only be shortened)' })
        .option('instance-type', { type: 'string', describe: 'ProductionVariant InstanceType (default ml.m5.large)' })
        .option('json', { type: 'boolean', describe: 'When ready, print {name, url, containerId, port, …} as one line of JSON on stdout' })
        .option('watch', { type: 'string', coerce: list, describe: 'Start the containers again when a file under PATH changes (default: the --model folder or archive); same port and URL. Repeatable; put IMAGE before it' })
        .example('$0 serve my-model:latest --model ./model.tar.gz', 'then: curl --data-binary @in.json -H "Content-Type: application/json" <printed URL>') as unknown as Argv<ServeArgs>,
    handler: (argv) =>
      withCommandContext(argv, io, async (ctx) => {
        ctx.warmEngine();
        const [{ resolveServingInput }, { startEndpoint }] = await Promise.all([import('../../config/serving-input.js'), import('../../jobs/serving-runner.js')]);
        const flags: ServeFlags = pickFlags(argv, ['image', 'model-json', 'endpoint-config-json', 'model', 'name', 'env', 'env-file', 'port', 'startup-timeout', 'invocation-timeout', 'instance-type', 'instance-count', 'shm-size', 'gpus', 'platform', 'publish', 'keep']);
        const { input, notices } = await resolveServingInput(flags, ctx.config, { cwd: io.cwd, env: io.env });
        notices.forEach((n) => ctx.log.warn(n));
        ctx.masker.addEnvironment(input.environment ?? {});
        const trace = await traceSink(argv, ctx);
        const endpointInput = {
          ...input,
          ...(argv['multi-model'] !== undefined ? { multiModel: argv['multi-model'] } : {}),
          ...(argv['model-cache'] === 'Disabled' ? { modelCacheDisabled: true } : {}),
          onRequest: (e: RequestLogEntry) => ctx.log.info(requestLine(e, (input.variants?.length ?? 1) > 1)),
          ...(trace ? { onTrace: trace.write } : {}),
        };
        const announce = (endpoint: EndpointHandle) => {
          const info = { name: endpoint.name, url: endpoint.url, containerId: endpoint.containerId, port: endpoint.port, containerHostPort: endpoint.containerHostPort, readyMs: endpoint.readyMs };
          if (argv.json) ctx.json({ ...info, containers: endpoint.containers }, { line: true });
          else ctx.result(endpoint.url);
          if (endpoint.containers.length > 1) {
            for (const c of endpoint.containers) ctx.log.info(`  variant ${c.variantName}, instance ${c.instance}, container ${c.hostname} (${c.image}): ${c.containerUrl}`);
          }
          for (const p of input.publish ?? []) ctx.log.info(`  published: 127.0.0.1:${p.hostPort} -> container port ${p.containerPort}`);
          ctx.log.info(`Serving until Ctrl-C. Try: sm-local invoke ${endpoint.name} --body '…' --content-type application/json`);
        };
        try {
          if (argv.watch) {
            const [{ serveWatched }, { watchTargets }] = await Promise.all([import('../../jobs/watched-endpoint.js'), import('../../workspace/file-watch.js')]);
            const paths = watchTargets(argv.watch, input.model, { what: '--model', hint: 'the folder of your inference code' });
            const watched = await serveWatched(endpointInput, { paths }, ctx.jobDeps());
            try {
              announce(watched.current()!);
              await whenAborted(ctx.stop);
              ctx.log.info(`Stopping endpoint ${watched.name}: SIGTERM, SIGKILL after the grace period…`);
            } finally {
              await watched.stop();
            }
            ctx.log.info(`Endpoint ${watched.name} stopped.`);
            return;
          }
          const endpoint = await startEndpoint(endpointInput, ctx.jobDeps());
          try {
            announce(endpoint);
            const crashed = await Promise.race([whenAborted(ctx.stop).then(() => undefined), endpoint.exited]);
            if (crashed) {
              setExitCode(EXIT.jobFailed);
              throw new ServingStartupError(`The ${endpoint.containers.length > 1 ? `${crashed.container} ` : ''}container exited with code ${crashed.exitCode} while serving.`, crashed.tail);
            }
            ctx.log.info(`Stopping endpoint ${endpoint.name}: SIGTERM, SIGKILL after the grace period…`);
          } finally {
            await endpoint.stop();
          }
          ctx.log.info(`Endpoint ${endpoint.name} stopped.`);
        } finally {
          await trace?.close();
        }
      }),
  };
}

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { InputPathError } from '../../errors.js';
import { withCommandContext, type CliIO, type GlobalArgs } from '../context.js';

interface InvokeArgs extends GlobalArgs {
  name: string;
  body?: string;
  'content-type'?: string;
  accept?: string;
  'custom-attributes'?: string;
  port?: number;
  stream?: boolean;
  'target-model'?: string;
  'target-variant'?: string;
  'target-container'?: string;
}

async function readStdin(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

export function invokeCommand(io: CliIO & { stdin?: NodeJS.ReadableStream }): CommandModule<GlobalArgs, InvokeArgs> {
  return {
    command: 'invoke <name>',
    describe: 'Call InvokeEndpoint on an endpoint `sm-local serve` is running; the response body goes to stdout',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('name', { type: 'string', demandOption: true, describe: 'EndpointName' })
        .option('body', { type: 'string', describe: 'The request body: a string, @FILE, or @- for stdin (default: empty)' })
        .option('content-type', { type: 'string', describe: 'ContentType' })
        .option('accept', { type: 'string', describe: 'Accept' })
        .option('custom-attributes', { type: 'string', describe: 'CustomAttributes (X-Amzn-SageMaker-Custom-Attributes)' })
        .option('port', { type: 'number', describe: 'Proxy port (default: found from the running endpoint)' })
        .option('target-model', { type: 'string', describe: 'TargetModel of a multi-model endpoint (X-Amzn-SageMaker-Target-Model), e.g. model-a.tar.gz' })
        .option('target-variant', { type: 'string', describe: 'TargetVariant (X-Amzn-SageMaker-Target-Variant): the production variant to invoke, whatever the weights' })
        .option('target-container', { type: 'string', describe: 'TargetContainerHostname of a direct-invocation multi-container endpoint (X-Amzn-SageMaker-Target-Container-Hostname)' })
        .option('stream', { type: 'boolean', describe: 'InvokeEndpointWithResponseStream: print each PayloadPart as it arrives' }) as unknown as Argv<InvokeArgs>,
    handler: (argv) =>
      withCommandContext(argv, io, async (ctx) => {
        const [{ invokeEndpoint, invokeEndpointStream }, { findEndpoint }, { resolveJobDeps }] = await Promise.all([
          import('../../http/client.js'),
          import('../../jobs/endpoints.js'),
          import('../../jobs/deps.js'),
        ]);
        let body: Buffer;
        const stdin = io.stdin ?? process.stdin;
        if (argv.body === '@-') body = await readStdin(stdin);
        else if (argv.body?.startsWith('@')) {
          const path = resolve(io.cwd, argv.body.slice(1));
          body = await readFile(path).catch((err: unknown) => {
            throw new InputPathError('The request body file', path, undefined, err);
          });
        } else body = Buffer.from(argv.body ?? '', 'utf8');

        let port = argv.port;
        if (port === undefined) {
          const deps = resolveJobDeps(ctx.jobDeps());
          await deps.docker.ping();
          port = (await findEndpoint(deps.docker, argv.name)).proxyPort;
        }
        const started = performance.now();
        const options = {
          ...(argv['content-type'] !== undefined ? { contentType: argv['content-type'] } : {}),
          ...(argv.accept !== undefined ? { accept: argv.accept } : {}),
          ...(argv['custom-attributes'] !== undefined ? { customAttributes: argv['custom-attributes'] } : {}),
          ...(argv['target-model'] !== undefined ? { targetModel: argv['target-model'] } : {}),
          ...(argv['target-variant'] !== undefined ? { targetVariant: argv['target-variant'] } : {}),
          ...(argv['target-container'] !== undefined ? { targetContainerHostname: argv['target-container'] } : {}),
        };
        if (argv.stream) {
          let bytes = 0;
          const streamed = await invokeEndpointStream(`http://127.0.0.1:${port}`, argv.name, body, (part) => {
            bytes += part.length;
            io.stdout.write(part);
          }, options);
          ctx.log.info(`200 stream ${streamed.contentType ?? '(no content type)'}, ${streamed.parts} parts, ${bytes} B, ${(performance.now() - started).toFixed(1)} ms, variant ${streamed.invokedProductionVariant ?? '?'}`);
          return;
        }
        const result = await invokeEndpoint(`http://127.0.0.1:${port}`, argv.name, body, options);
        const ms = (performance.now() - started).toFixed(1);
        ctx.log.info(
          `200 ${result.contentType ?? '(no content type)'}, ${result.body.length} B, ${ms} ms, variant ${result.invokedProductionVariant ?? '?'}${result.customAttributes !== undefined ? `, custom attributes: ${result.customAttributes}` : ''}`,
        );
        io.stdout.write(result.body);
      }),
  };
}

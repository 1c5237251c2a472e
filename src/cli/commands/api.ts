import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { whenAborted } from '../../abort.js';
import { withCommandContext, type CliIO, type GlobalArgs } from '../context.js';
import { traceOptions, traceSink } from '../trace-sink.js';

interface ApiArgs extends GlobalArgs {
  port?: number;
  's3-root'?: string;
  's3-endpoint-url'?: string;
  's3-port'?: number;
  state?: string;
  region?: string;
  account?: string;
  trace?: boolean;
  'trace-file'?: string;
}

/** The lines a user pastes into a shell so that boto3, the AWS CLI and the SDKs talk to this server. */
export function environmentLines(url: string, region: string, s3Url?: string): string[] {
  return [
    ...(s3Url ? [`export AWS_ENDPOINT_URL_S3=${s3Url}`] : []),
    `export AWS_ENDPOINT_URL_SAGEMAKER=${url}`,
    `export AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=${url}`,
    `export AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=${url}`,
    `export AWS_ENDPOINT_URL_STS=${url}`,
    'export AWS_ACCESS_KEY_ID=sm-local AWS_SECRET_ACCESS_KEY=sm-local',
    `export AWS_DEFAULT_REGION=${region} AWS_REGION=${region}`,
  ];
}

export function apiCommand(io: CliIO): CommandModule<GlobalArgs, ApiArgs> {
  return {
    command: 'api',
    describe: 'Run a local SageMaker on 127.0.0.1 that boto3, the AWS CLI and the AWS SDKs drive: training jobs, models, endpoint configs, endpoints, and their runtime',
    builder: (y: Argv<GlobalArgs>) =>
      traceOptions(y)
        .option('port', { type: 'number', describe: 'Port on 127.0.0.1 (default 8770, or a free one if it is taken; 0 for any free port)' })
        .option('s3-root', { type: 'string', describe: 'Use a folder as S3, with no S3 endpoint: s3://bucket/key is DIR/bucket/key' })
        .option('s3-endpoint-url', { type: 'string', describe: 'Use this S3-compatible endpoint (LocalStack, MinIO, moto) instead of the local one' })
        .option('s3-port', { type: 'number', describe: "The local S3 endpoint's port on 127.0.0.1 (default: any free one)" })
        .option('output', { type: 'string', describe: 'Folder for job folders (default ./sm-local-output)' })
        .option('state', { type: 'string', describe: 'Folder the resources are kept in between runs (default ./sm-local-state)' })
        .option('region', { type: 'string', describe: 'AWS region for ARNs (default us-east-1)' })
        .option('account', { type: 'string', describe: 'Account id for ARNs (default 000000000000)' })
        .example('$0 api', 'then: eval the printed lines, and aws sagemaker list-training-jobs') as unknown as Argv<ApiArgs>,
    handler: (argv) =>
      withCommandContext(argv, io, async (ctx) => {
        const { startApiServer } = await import('../../api/server.js');
        const { DEFAULT_ACCOUNT, DEFAULT_REGION } = await import('../../contract/identity.js');
        const region = ctx.config.region ?? DEFAULT_REGION;
        const s3Root = ctx.config.s3Root;
        if (s3Root) await mkdir(s3Root, { recursive: true });
        const stateDir = resolve(io.cwd, argv.state ?? 'sm-local-state');
        const trace = await traceSink(argv, ctx);
        const server = await startApiServer(
          {
            ...(argv.port !== undefined ? { port: argv.port } : {}),
            region,
            account: ctx.config.account ?? DEFAULT_ACCOUNT,
            ...(s3Root ? { s3Root } : {}),
            ...(argv['s3-endpoint-url'] ? { s3EndpointUrl: argv['s3-endpoint-url'] } : {}),
            ...(argv['s3-port'] !== undefined ? { s3Port: argv['s3-port'] } : {}),
            outputDir: ctx.config.outputDir,
            stateDir,
            onCall: (op, status, ms) => ctx.log.info(`[api] ${status} ${op} ${ms.toFixed(1)} ms`),
            ...(trace ? { trace: trace.write } : {}),
            onRequest: (e) => ctx.log.info(`[runtime] ${e.status} ${e.method} ${e.url} ${e.bytesIn} B in, ${e.bytesOut} B out, ${e.ms.toFixed(1)} ms${e.variant ? `, variant ${e.variant}` : ''}${e.errorType ? ` (${e.errorType})` : ''}`),
          },
          ctx.jobDeps(),
        );
        ctx.result(server.url);
        const s3 = s3Root ? `S3 is the folder ${s3Root}` : argv['s3-endpoint-url'] ? `S3 is ${server.s3Url}` : `S3 is the local endpoint ${server.s3Url} (objects under ${stateDir}/s3)`;
        ctx.log.info(`Local SageMaker at ${server.url}; ${s3}; job folders go to ${ctx.config.outputDir}; state is kept in ${stateDir}. Paste into a shell:`);
        for (const line of environmentLines(server.url, region, server.s3Url)) ctx.log.info(`  ${line}`);
        ctx.log.info(`Console (jobs, endpoints, logs, metrics, invoke): open ${server.url}/ in a browser.`);
        ctx.log.info('Serving until Ctrl-C, which stops every job and deletes every endpoint it started.');
        await whenAborted(ctx.stop);
        // A second Ctrl-C aborts ctx.force, which every job and endpoint's deps carry: SIGKILL at once.
        await server.close();
        await trace?.close();
        ctx.log.info('Local SageMaker stopped.');
      }),
  };
}

/**
 * S3 for a local SageMaker: a local S3-compatible endpoint (s3rver, backed by a folder) or any other
 * (`--s3-endpoint-url`: LocalStack, MinIO, moto), and a mirror folder the jobs read and write as
 * `--s3-root` (`s3://bucket/key` is `<mirror>/bucket/key`). Before a job, the objects under its
 * input URIs are copied down into the mirror; after it, what it wrote under its output URIs is copied
 * up, so users and the next call see them through their usual S3 client.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

const parse = (uri: string) => /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);

export class S3Mirror {
  private readonly client: S3Client;

  constructor(
    readonly endpointUrl: string,
    /** The folder the jobs see as S3 (`--s3-root`). */
    readonly root: string,
    region: string,
  ) {
    // sm-local's own client; the SDK's notice about future Node versions is not the user's concern here.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.client = new S3Client({
      endpoint: endpointUrl,
      region,
      forcePathStyle: true,
      credentials: { accessKeyId: 'sm-local', secretAccessKey: 'sm-local' },
      maxAttempts: 2,
      // Plain bodies: the SDK's default aws-chunked uploads with trailing checksums are not understood
      // by every S3-compatible store (s3rver keeps the chunk framing as the object's bytes).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  /** Copies the objects at `uri` (an object, or every object under a prefix) into the mirror; returns how many. */
  async pull(uri: string): Promise<number> {
    const m = parse(uri);
    if (!m) return 0;
    const [, bucket, key = ''] = m;
    let copied = 0;
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, ...(token ? { ContinuationToken: token } : {}) }));
      for (const o of page.Contents ?? []) {
        if (!o.Key || o.Key.endsWith('/')) continue;
        // An object or the prefix itself, never a sibling that merely shares its start (s3://b/train vs s3://b/training).
        if (key && o.Key !== key && !key.endsWith('/') && !o.Key.startsWith(`${key}/`)) continue;
        const dest = join(this.root, bucket!, ...o.Key.split('/'));
        if (relative(join(this.root, bucket!), dest).startsWith('..')) continue;
        await mkdir(dirname(dest), { recursive: true });
        const got = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }));
        await pipeline(got.Body as Readable, createWriteStream(dest));
        copied += 1;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return copied;
  }

  /** Copies every file the mirror has at `uri` (a file, or a folder's files) up to S3; returns how many. */
  async push(uri: string): Promise<number> {
    const m = parse(uri);
    if (!m) return 0;
    const [, bucket, key = ''] = m;
    const local = join(this.root, bucket!, ...key.split('/').filter(Boolean));
    const info = await stat(local).catch(() => undefined);
    if (!info) return 0;
    const files: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, e.name);
        if (e.isDirectory()) await walk(path);
        else if (e.isFile()) files.push(path);
      }
    };
    if (info.isDirectory()) await walk(local);
    else files.push(local);
    for (const file of files) {
      const objectKey = relative(join(this.root, bucket!), file).split(sep).join('/');
      const size = (await stat(file)).size;
      await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: objectKey, Body: createReadStream(file), ContentLength: size }));
    }
    return files.length;
  }

  destroy(): void {
    this.client.destroy();
  }
}

/** s3rver's registry of access keys, answering every key with its one account. */
class AnyKey extends Map<string, unknown> {
  constructor(known: Map<string, unknown>, private readonly fallback: unknown) {
    super(known);
  }
  override get(key: string): unknown {
    return super.get(key) ?? this.fallback;
  }
}

/** A local S3-compatible endpoint on 127.0.0.1, backed by `directory`: s3rver, a maintained S3 emulator. */
export async function startLocalS3(directory: string, port = 0): Promise<{ url: string; close(): Promise<void> }> {
  const [{ default: S3rver }, { default: accounts }] = await Promise.all([import('s3rver'), import('s3rver/lib/models/account.js')]);
  // Local emulators take any credentials (CONTRACT §9.6); s3rver knows one key pair, so every key is that account.
  if (!(accounts.registry instanceof AnyKey)) accounts.registry = new AnyKey(accounts.registry, accounts.DUMMY_ACCOUNT);
  await mkdir(directory, { recursive: true });
  const server = new S3rver({ port, address: '127.0.0.1', directory, silent: true });
  const info = await server.run();
  return { url: `http://127.0.0.1:${info.port}`, close: () => server.close() };
}

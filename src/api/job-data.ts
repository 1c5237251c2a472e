/**
 * A job's data and S3: with an S3 endpoint, what a job reads is copied from S3 into the folder the
 * jobs see as S3 before it starts, and what it writes is copied back after it; without one, that
 * folder is S3 and nothing moves.
 */
import { apiErrors } from '../contract/api-wire.js';
import type { UriMapper } from '../contract/create-training-job.js';
import { submittedSourceUri, type SubmittedSource } from '../contract/training-spec.js';
import { findSubmittedSource } from '../config/uri-mapping.js';
import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { Refused } from './records.js';
import type { S3Mirror } from './s3-mirror.js';

export class JobData {
  constructor(
    private readonly s3: S3Mirror | undefined,
    /** `s3://bucket/key` → its file in the folder the jobs see as S3. */
    readonly mapper: UriMapper,
    private readonly region: string,
    private readonly log: Logger,
  ) {}

  /**
   * Copies the objects under each `s3://` URI of `uris` from S3 into the folder the jobs read (with an
   * S3 endpoint), telling `onCopied` how many came (undefined: the bucket does not exist).
   */
  private async copyDown(uris: readonly unknown[], onCopied: (uri: string, count: number | undefined) => void): Promise<void> {
    const s3 = this.s3;
    if (!s3) return;
    for (const uri of uris) {
      if (typeof uri !== 'string' || !uri.startsWith('s3://')) continue;
      const count = await s3.pull(uri).catch((err: unknown) => {
        if ((err as Error).name === 'NoSuchBucket') return undefined;
        throw new UsageError(`Could not read ${uri} from S3 (${s3.endpointUrl}): ${(err as Error).message}.`);
      });
      onCopied(uri, count);
    }
  }

  /** Copies the objects under `uris` down (see {@link copyDown}); a bucket that does not exist is refused. */
  pull(uris: readonly unknown[]): Promise<void> {
    return this.copyDown(uris, (uri, count) => {
      if (count === undefined) throw new UsageError(`Could not read ${uri} from S3 (${this.s3!.endpointUrl}): the bucket does not exist.`);
    });
  }

  /**
   * A job's input data, copied down as {@link pull} does. The service lists every input prefix before
   * it answers, and refuses one with no object under it (or no bucket) with its own text (CreateTrainingJob
   * and CreateTransformJob, seen in aws/amazon-sagemaker-examples#2267 and #2414).
   */
  pullInputs(uris: readonly unknown[], role: unknown): Promise<void> {
    return this.copyDown(uris, (uri, count) => {
      if (!count) throw new Refused(apiErrors.noS3Objects(uri, this.region, String(role ?? '')));
    });
  }

  /** Copies what the jobs wrote under `uris` up to S3 (with an S3 endpoint); a failure is said, not thrown. */
  async push(uris: readonly unknown[]): Promise<void> {
    const s3 = this.s3;
    if (!s3) return;
    for (const uri of uris) {
      if (typeof uri !== 'string' || !uri.startsWith('s3://')) continue;
      await s3.push(uri).catch((err: unknown) => this.log.warn(`Could not upload ${uri}: ${(err as Error).message}`));
    }
  }

  /**
   * The code archive of a script-mode job the SageMaker Python SDK submitted (`sagemaker_submit_directory`
   * = the `sourcedir.tar.gz` it uploaded), copied down from S3. Without the object, the container gets
   * the URI as it is and fails to download it, as the job would on SageMaker.
   */
  async submittedSource(hyperParameters: Record<string, string> | undefined): Promise<SubmittedSource | undefined> {
    const uri = submittedSourceUri(hyperParameters);
    if (uri) await this.pull([uri]).catch(() => undefined);
    return findSubmittedSource(hyperParameters, this.mapper);
  }
}

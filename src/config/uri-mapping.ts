import { stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { UriMapper } from '../contract/create-training-job.js';
import { TRAINING_LIMITS } from '../contract/limits.js';
import { Problems } from '../contract/problems.js';
import { submittedSourceUri, type SubmittedSource } from '../contract/training-spec.js';

/**
 * The documented rule for data URIs in a job file:
 * - `s3://bucket/key/prefix` → `<s3Root>/bucket/key/prefix` (needs `--s3-root` or `SM_LOCAL_S3_ROOT`);
 * - `file:///abs/path` → `/abs/path`;
 * - a plain path → that path, relative to the job file's folder (the AWS CLI would reject it);
 * - `https://` S3 URLs are not supported.
 */
export function createUriMapper(opts: { s3Root?: string; baseDir: string }): UriMapper {
  return (uri, fieldPath, problems) => {
    if (uri.length > TRAINING_LIMITS.s3Uri.max) {
      problems.add(fieldPath, `must be at most ${TRAINING_LIMITS.s3Uri.max} characters long.`);
      return undefined;
    }
    const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
    if (s3) {
      if (!opts.s3Root) {
        problems.add(fieldPath, `${uri} needs a local mapping: pass --s3-root DIR (or set SM_LOCAL_S3_ROOT) so that s3://bucket/key reads DIR/bucket/key.`);
        return undefined;
      }
      return join(opts.s3Root, s3[1]!, s3[2] ?? '');
    }
    if (uri.startsWith('file://')) {
      try {
        return fileURLToPath(uri);
      } catch {
        problems.add(fieldPath, `${uri} is not a valid file:// URL.`);
        return undefined;
      }
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) {
      problems.add(fieldPath, `${uri}: only s3:// URIs (with --s3-root), file:// URLs and local paths are supported locally.`);
      return undefined;
    }
    problems.notice(`${fieldPath} is a local path (${uri}); the AWS CLI rejects anything but s3:// or https:// URIs here.`);
    return isAbsolute(uri) ? uri : resolve(opts.baseDir, uri);
  };
}

/**
 * The code archive a script-mode request names in `sagemaker_submit_directory` (an `s3://` URI, as the
 * SageMaker Python SDK uploads it), where `mapper` finds it; undefined when it names none or the
 * file is not there (the container then fails to fetch it, as the job would on SageMaker).
 */
export async function findSubmittedSource(hyperParameters: Readonly<Record<string, string>> | undefined, mapper: UriMapper): Promise<SubmittedSource | undefined> {
  const uri = submittedSourceUri(hyperParameters);
  if (!uri) return undefined;
  const archive = mapper(uri, 'HyperParameters.sagemaker_submit_directory', new Problems());
  return archive && (await stat(archive).then((i) => i.isFile(), () => false)) ? { uri, archive } : undefined;
}

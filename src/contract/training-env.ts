import type { ResolvedTrainingJobSpec } from './training-spec.js';

/**
 * The environment of a training container (CONTRACT §3.7): `TRAINING_JOB_NAME`, `TRAINING_JOB_ARN`,
 * `AWS_REGION`, then every key of the request's `Environment` verbatim. No `SM_*` variables: those
 * come from the training toolkit inside the image, not from the platform.
 * Which of a user key and a platform key wins on a clash is UNCONFIRMED; the user's value wins here,
 * as in the SageMaker Python SDK's local mode.
 * Not set: the ECS credential and metadata variables (they point at 169.254.170.2, which does not exist
 * locally and would make AWS SDKs in the container hang looking for credentials).
 */
export function renderTrainingEnvironment(spec: Pick<ResolvedTrainingJobSpec, 'trainingJobName' | 'trainingJobArn' | 'region' | 'environment'>): Record<string, string> {
  return {
    TRAINING_JOB_NAME: spec.trainingJobName,
    TRAINING_JOB_ARN: spec.trainingJobArn,
    AWS_REGION: spec.region,
    ...spec.environment,
  };
}

/** `KEY=value` strings for the Engine API, in a stable order. */
export function toEnvList(env: Record<string, string>): string[] {
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

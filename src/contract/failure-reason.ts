import { TRAINING_LIMITS } from './limits.js';

/**
 * `FailureReason` of a failed training job (CONTRACT §3.10): current jobs report
 * `AlgorithmError: <text of /opt/ml/output/failure>, exit code: <n>`, with an empty text when the
 * algorithm wrote no failure file (`AlgorithmError: , exit code: 1`). The text is the first 1024
 * characters of the file; when text and suffix together exceed the field's 1024 limit the text is
 * cut so the whole field fits (truncation order UNCONFIRMED; CONTRACT recommends this).
 */
export function renderFailureReason(failureText: string | undefined, exitCode: number): string {
  const max = TRAINING_LIMITS.failureReasonMax;
  const prefix = 'AlgorithmError: ';
  const suffix = `, exit code: ${exitCode}`;
  const text = (failureText ?? '').slice(0, max).slice(0, max - prefix.length - suffix.length);
  return `${prefix}${text}${suffix}`;
}

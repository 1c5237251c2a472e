/**
 * Paths inside a SageMaker training container (CONTRACT §3.2; DG:your-algorithms-training-algo-running-container).
 */
export const OPT_ML = '/opt/ml';
export const TRAINING_PATHS = {
  input: '/opt/ml/input',
  config: '/opt/ml/input/config',
  data: '/opt/ml/input/data',
  model: '/opt/ml/model',
  output: '/opt/ml/output',
  outputData: '/opt/ml/output/data',
  failure: '/opt/ml/output/failure',
  checkpoints: '/opt/ml/checkpoints',
} as const;

/** The folders SageMaker mounts over the image's own (CONTRACT §3.2); /opt/ml/code is not one of them. */
export const PLATFORM_AREAS = [TRAINING_PATHS.input, TRAINING_PATHS.model, TRAINING_PATHS.output, TRAINING_PATHS.checkpoints] as const;

/** The three files the platform writes into `/opt/ml/input/config/` before the container starts. */
export const TRAINING_CONFIG_FILES = ['hyperparameters.json', 'inputdataconfig.json', 'resourceconfig.json'] as const;
export type TrainingConfigFileName = (typeof TRAINING_CONFIG_FILES)[number];

/** Host names of a training cluster: `algo-1` … `algo-N` (CONTRACT §3.5). */
export function hostName(index: number): string {
  return `algo-${index + 1}`;
}

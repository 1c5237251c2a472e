/**
 * SageMaker's HyperParameters are a map of strings (API:CreateTrainingJobRequest.HyperParameters).
 * Values given as JSON numbers, booleans, arrays or objects on the command line are turned into the
 * strings the SageMaker Python SDK would send for them (`json.dumps`: `10`, `true`, `[256, 128]`),
 * and the caller is told. String values pass through as typed, like the AWS CLI sends them.
 */
export function stringifyHyperParameters(input: Record<string, unknown>, origin: string): { hyperParameters: Record<string, string>; notices: string[] } {
  const hyperParameters: Record<string, string> = {};
  const notices: string[] = [];
  for (const [key, value] of Object.entries(input)) {
    if (typeof value === 'string') {
      hyperParameters[key] = value;
      continue;
    }
    const text = pythonJsonDumps(value);
    hyperParameters[key] = text;
    const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
    notices.push(`Hyperparameter "${key}" from ${origin} is a JSON ${kind}; it is passed as the string ${JSON.stringify(text)}, because SageMaker only carries string values.`);
  }
  return { hyperParameters, notices };
}

/** JSON with Python's default separators (`", "` and `": "`), as `json.dumps` writes it. */
export function pythonJsonDumps(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${pythonJsonDumps(v)}`).join(', ')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

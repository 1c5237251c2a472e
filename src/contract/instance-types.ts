/**
 * Resources of SageMaker ML instance types: vCPUs, memory (GiB) and accelerators. The ml.* types run
 * on the EC2 instance types of the same name, so the figures are EC2's published specifications (the
 * same table the SageMaker pricing page lists per instance). Graviton families are arm64.
 *
 * Local containers get these as limits: CPUs, memory (no swap, as on an instance) and /dev/shm.
 */
export interface InstanceResources {
  vcpus: number;
  memoryGiB: number;
  /** GPUs (NVIDIA) or other accelerators on the instance. */
  gpus: number;
  accelerator?: string;
}

type Row = [size: string, vcpus: number, memoryGiB: number, gpus?: number];

/** Families whose sizes scale the usual way: [size, vCPUs, GiB, GPUs]. */
const FAMILIES: Record<string, { rows: Row[]; accelerator?: string }> = {
  t3: { rows: [['medium', 2, 4], ['large', 2, 8], ['xlarge', 4, 16], ['2xlarge', 8, 32]] },
  m4: { rows: [['xlarge', 4, 16], ['2xlarge', 8, 32], ['4xlarge', 16, 64], ['10xlarge', 40, 160], ['16xlarge', 64, 256]] },
  m5: { rows: [['large', 2, 8], ['xlarge', 4, 16], ['2xlarge', 8, 32], ['4xlarge', 16, 64], ['12xlarge', 48, 192], ['24xlarge', 96, 384]] },
  m5d: { rows: [['large', 2, 8], ['xlarge', 4, 16], ['2xlarge', 8, 32], ['4xlarge', 16, 64], ['12xlarge', 48, 192], ['24xlarge', 96, 384]] },
  m6i: { rows: [['large', 2, 8], ['xlarge', 4, 16], ['2xlarge', 8, 32], ['4xlarge', 16, 64], ['8xlarge', 32, 128], ['12xlarge', 48, 192], ['16xlarge', 64, 256], ['24xlarge', 96, 384], ['32xlarge', 128, 512]] },
  m6g: { rows: [['large', 2, 8], ['xlarge', 4, 16], ['2xlarge', 8, 32], ['4xlarge', 16, 64], ['8xlarge', 32, 128], ['12xlarge', 48, 192], ['16xlarge', 64, 256]] },
  m7g: { rows: [['large', 2, 8], ['xlarge', 4, 16], ['2xlarge', 8, 32], ['4xlarge', 16, 64], ['8xlarge', 32, 128], ['12xlarge', 48, 192], ['16xlarge', 64, 256]] },
  c4: { rows: [['xlarge', 4, 7.5], ['2xlarge', 8, 15], ['4xlarge', 16, 30], ['8xlarge', 36, 60]] },
  c5: { rows: [['large', 2, 4], ['xlarge', 4, 8], ['2xlarge', 8, 16], ['4xlarge', 16, 32], ['9xlarge', 36, 72], ['18xlarge', 72, 144]] },
  c5n: { rows: [['xlarge', 4, 10.5], ['2xlarge', 8, 21], ['4xlarge', 16, 42], ['9xlarge', 36, 96], ['18xlarge', 72, 192]] },
  c6i: { rows: [['large', 2, 4], ['xlarge', 4, 8], ['2xlarge', 8, 16], ['4xlarge', 16, 32], ['8xlarge', 32, 64], ['12xlarge', 48, 96], ['16xlarge', 64, 128], ['24xlarge', 96, 192], ['32xlarge', 128, 256]] },
  c7g: { rows: [['large', 2, 4], ['xlarge', 4, 8], ['2xlarge', 8, 16], ['4xlarge', 16, 32], ['8xlarge', 32, 64], ['12xlarge', 48, 96], ['16xlarge', 64, 128]] },
  r5: { rows: [['large', 2, 16], ['xlarge', 4, 32], ['2xlarge', 8, 64], ['4xlarge', 16, 128], ['12xlarge', 48, 384], ['24xlarge', 96, 768]] },
  p2: { accelerator: 'NVIDIA K80', rows: [['xlarge', 4, 61, 1], ['8xlarge', 32, 488, 8], ['16xlarge', 64, 732, 16]] },
  p3: { accelerator: 'NVIDIA V100', rows: [['2xlarge', 8, 61, 1], ['8xlarge', 32, 244, 4], ['16xlarge', 64, 488, 8]] },
  p3dn: { accelerator: 'NVIDIA V100', rows: [['24xlarge', 96, 768, 8]] },
  p4d: { accelerator: 'NVIDIA A100', rows: [['24xlarge', 96, 1152, 8]] },
  p5: { accelerator: 'NVIDIA H100', rows: [['48xlarge', 192, 2048, 8]] },
  g4dn: { accelerator: 'NVIDIA T4', rows: [['xlarge', 4, 16, 1], ['2xlarge', 8, 32, 1], ['4xlarge', 16, 64, 1], ['8xlarge', 32, 128, 1], ['12xlarge', 48, 192, 4], ['16xlarge', 64, 256, 1]] },
  g5: { accelerator: 'NVIDIA A10G', rows: [['xlarge', 4, 16, 1], ['2xlarge', 8, 32, 1], ['4xlarge', 16, 64, 1], ['8xlarge', 32, 128, 1], ['12xlarge', 48, 192, 4], ['16xlarge', 64, 256, 1], ['24xlarge', 96, 384, 4], ['48xlarge', 192, 768, 8]] },
  trn1: { accelerator: 'AWS Trainium', rows: [['2xlarge', 8, 32, 1], ['32xlarge', 128, 512, 16]] },
};

/** The resources of `instanceType`, or undefined for a type missing from the table. */
export function instanceResources(instanceType: string): InstanceResources | undefined {
  const [, family, size] = instanceType.split('.');
  const f = family ? FAMILIES[family] : undefined;
  const row = f?.rows.find((r) => r[0] === size);
  if (!f || !row) return undefined;
  return { vcpus: row[1], memoryGiB: row[2], gpus: row[3] ?? 0, ...(f.accelerator ? { accelerator: f.accelerator } : {}) };
}

/** Every instance type in the table (for documentation and `--help`). */
export function knownInstanceTypes(): string[] {
  return Object.entries(FAMILIES).flatMap(([family, f]) => f.rows.map((r) => `ml.${family}.${r[0]}`));
}

export interface ContainerLimits {
  nanoCpus: number;
  memoryBytes: number;
  shmBytes: number;
  gpus: number;
  /** What could not be given as asked, and why (the engine has less than the instance). */
  notes: string[];
}

const GiB = 1024 ** 3;

/**
 * Limits for a container standing in for one instance: its vCPUs and memory (capped at what the
 * engine has, with a note), memory without swap, and /dev/shm at half the memory. The size of
 * /dev/shm on SageMaker instances is UNCONFIRMED; half of memory is the Linux tmpfs default.
 */
export function containerLimits(instanceType: string, engine: { cpus: number; memoryBytes: number }): ContainerLimits | undefined {
  const r = instanceResources(instanceType);
  if (!r) return undefined;
  const notes: string[] = [];
  let cpus = r.vcpus;
  if (engine.cpus > 0 && cpus > engine.cpus) {
    notes.push(`${instanceType} has ${r.vcpus} vCPUs; the engine has ${engine.cpus}, so the container gets ${engine.cpus}.`);
    cpus = engine.cpus;
  }
  let memoryBytes = Math.round(r.memoryGiB * GiB);
  if (engine.memoryBytes > 0 && memoryBytes > engine.memoryBytes) {
    notes.push(`${instanceType} has ${r.memoryGiB} GiB of memory; the engine has ${(engine.memoryBytes / GiB).toFixed(1)} GiB, so the container is not limited to the instance's memory.`);
    memoryBytes = 0;
  }
  return { nanoCpus: Math.round(cpus * 1e9), memoryBytes, shmBytes: Math.round((memoryBytes || engine.memoryBytes || r.memoryGiB * GiB) / 2), gpus: r.gpus, notes };
}

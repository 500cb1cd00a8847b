/**
 * Parsing `nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader,nounits`.
 *
 * Pure and forgiving: a line that does not parse is reported as a warning and skipped, never
 * thrown, because a node with a broken driver should still join and run CPU work.
 * @module
 */

/** One GPU as the node reports it in `node.register`. */
export interface GpuInfo {
  /** The driver's index (what `CUDA_VISIBLE_DEVICES` / `--gpus device=` take). */
  readonly index: number;
  /** Stable across reboots and re-indexing, unlike `index`. */
  readonly uuid: string;
  readonly name: string;
  readonly memoryBytes: number;
}

/** The arguments shoal passes to nvidia-smi. */
export const NVIDIA_SMI_ARGS: readonly string[] = [
  '--query-gpu=index,uuid,name,memory.total',
  '--format=csv,noheader,nounits',
];

const MIB = 1024 * 1024;
const MAX_LINES = 1024; // far above any real machine; bounds the work on garbage output

/**
 * Parse nvidia-smi CSV output into GPUs plus a warning per line it could not read. Tolerates a
 * header line, a ` MiB` unit suffix (output without `nounits`), CRLF, blank lines and commas in
 * the GPU name.
 * @example parseNvidiaSmiCsv('0, GPU-26…, NVIDIA H100 80GB HBM3, 81559\n').gpus[0].memoryBytes // 85518663680
 */
export function parseNvidiaSmiCsv(text: string): { gpus: GpuInfo[]; warnings: string[] } {
  const gpus: GpuInfo[] = [];
  const warnings: string[] = [];
  const lines = text.split(/\r?\n/).slice(0, MAX_LINES);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || /^index\s*,/i.test(line)) return; // blank, or the header of `--format=csv`
    const fields = line.split(',').map((f) => f.trim());
    if (fields.length < 4) {
      warnings.push(
        `nvidia-smi line ${i + 1}: expected 4 comma-separated fields, got ${fields.length}: ${quote(line)}`,
      );
      return;
    }
    const [indexText, uuid] = fields as [string, string];
    const memoryText = fields[fields.length - 1]!;
    const name = fields.slice(2, -1).join(', ');
    const index = /^\d{1,4}$/.test(indexText) ? Number(indexText) : NaN;
    const mib = /^\d{1,9}(?:\s*MiB)?$/i.test(memoryText) ? Number.parseInt(memoryText, 10) : NaN;
    const problems = [
      Number.isNaN(index) && `index ${quote(indexText)} is not a number`,
      !/^(GPU|MIG)-[0-9A-Za-z-]{1,80}$/.test(uuid) && `uuid ${quote(uuid)} does not look like GPU-…`,
      name === '' && 'name is empty',
      Number.isNaN(mib) && `memory.total ${quote(memoryText)} is not a number of MiB`,
    ].filter((p): p is string => typeof p === 'string');
    if (problems.length > 0) {
      warnings.push(`nvidia-smi line ${i + 1}: ${problems.join('; ')}`);
      return;
    }
    if (gpus.some((g) => g.index === index || g.uuid === uuid)) {
      warnings.push(`nvidia-smi line ${i + 1}: GPU ${index} (${uuid}) is listed twice; kept the first`);
      return;
    }
    gpus.push({ index, uuid, name, memoryBytes: mib * MIB });
  });
  gpus.sort((a, b) => a.index - b.index);
  return { gpus, warnings };
}

/** Quote a value for a message, cut short so binary garbage cannot flood a log. */
function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

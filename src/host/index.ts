/** This machine's resources (CPUs, memory, GPUs), as a node reports them when it registers. */
export { NVIDIA_SMI_ARGS, parseNvidiaSmiCsv, type GpuInfo } from './nvidia-smi.js';
export { detectResources, queryNvidiaSmi, type DetectResourcesOptions, type HostResources } from './resources.js';

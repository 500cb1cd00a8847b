/** The deterministic Raft simulator: seeded cluster, virtual clock, faulty disk and network, safety checks. */
export { runSeed, type SimOptions, type SimResult, type SimStats, type PlantedBug } from './simulation.js';
export { SimCluster, type ClusterParams } from './cluster.js';
export { SimNode, type CoreFactory, type SimNodeDeps } from './node.js';
export { SimDisk, type DiskBug, type DiskImage } from './disk.js';
export { SimNetwork, type NetworkFaults } from './network.js';
export { SafetyChecker, fingerprint } from './invariants.js';
export { EventQueue } from './event-queue.js';
export { Chaos, DEFAULT_WEIGHTS, type ChaosAction } from './chaos.js';
export { SafetyViolation, InvariantError, Trace } from './trace.js';

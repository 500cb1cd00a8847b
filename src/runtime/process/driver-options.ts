/**
 * The options of the process runtime's driver.
 * @module
 */
import type { RuntimeLogger } from '../node-runtime.js';
import type { CgroupManager } from './cgroups.js';

/** Options of the `ProcessDriver`. */
export interface ProcessDriverOptions {
  /** Where the tasks' directories live; must survive an agent restart (not a tmpfs cleaned at boot is fine). */
  readonly stateDir: string;
  readonly logger?: RuntimeLogger;
  /** `true` (default): use cgroups where the host allows; `false`: never; or a manager (tests). */
  readonly cgroups?: boolean | CgroupManager;
  /** Path of `perl` for the supervisor; `null`: run without it (no per-line times). Default: found on PATH. */
  readonly perl?: string | null;
  /** How often adopted processes (not children of this agent) are checked for their end. Default 500 ms. */
  readonly adoptPollMs?: number;
  /**
   * Put every task in a cgroup, limits or not, for its peak memory (default: only tasks with
   * limits). Off by default because moving a process into a cgroup v1 takes a kernel lock that
   * also stalls every fork on the host for milliseconds: it halves the rate of trivial jobs.
   */
  readonly cgroupEveryTask?: boolean;
  /**
   * How often the peak memory of tasks without a cgroup is sampled from /proc, as Slurm's
   * `jobacct_gather/linux` does (one pass over /proc for all tasks). Default 2000 ms; 0: never.
   */
  readonly usageSampleMs?: number;
  /**
   * `true` (default where Perl is): start supervisors through one long-lived launcher process
   * (launcher.ts), which costs the agent a line on a pipe per task; `false`: spawn a shell per
   * task (a fork of the agent and a Perl start-up each).
   */
  readonly launcher?: boolean;
}
